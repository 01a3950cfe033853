using System.Text;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Tests.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Boot;

public sealed class GuestImageLoaderTests
{
    private const uint BootloaderMagic = 0x2BAD_B002;
    private const ulong MiB = 1 << 20;

    [Fact]
    public void Elf32MultibootLoadsSegmentsAndZeroesBss()
    {
        using var memory = new TestGuestMemory();
        memory.Poison();
        var text = TestSegment.Code(0x100000, 0x300, bss: 0x2000);
        var data = TestSegment.Code(0x200000, 0x40);
        var image = TestImages.Elf32(0x100010, [text, data], TestImages.MultibootHeader(0x3));

        var loaded = GuestImageLoader.Load(image, memory.Map);

        Assert.Equal(GuestImageFormat.MultibootElf32, loaded.Format);
        Assert.Equal(text.Data, memory.Read(0x100000, text.Data.Length));
        Assert.All(memory.Read(0x100300, 0x2000), b => Assert.Equal(0, b));
        Assert.Equal(0xCC, memory.Read(0x102300, 1)[0]);
        Assert.Equal(data.Data, memory.Read(0x200000, data.Data.Length));
        Assert.Equal(0x100000UL, loaded.ImageStart);
        Assert.Equal(0x200040UL, loaded.ImageEnd);
        Assert.Equal(0x100010UL, loaded.EntryPoint);
    }

    [Fact]
    public void MultibootEntryStateFollowsTheSpecification()
    {
        using var memory = new TestGuestMemory();
        var image = TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x100)], TestImages.MultibootHeader(0));

        var loaded = GuestImageLoader.Load(image, memory.Map);
        var s = loaded.InitialState;

        Assert.Equal(BootloaderMagic, s.Gprs[0]);
        Assert.Equal(loaded.BootInfoAddress, s.Gprs[3]);
        Assert.Equal(0x100000UL, s.Rip);
        Assert.Equal(0x2UL, s.Rflags); // IF = 0, VM = 0
        Assert.Equal(1UL, s.Cr0 & 1); // PE
        Assert.Equal(0UL, s.Cr0 & 0x8000_0000); // PG
        Assert.Equal(0UL, s.Efer);
        Assert.Equal(0UL, s.Cr4);
        Assert.Equal(SegmentRegister.Flat32(0x10, code: true), s.Cs);
        foreach (var segment in new[] { s.Ds, s.Es, s.Fs, s.Gs, s.Ss })
            Assert.Equal(SegmentRegister.Flat32(0x18, code: false), segment);
        Assert.True(s.Gprs[4] > loaded.BootInfoAddress && s.Gprs[4] < 0xA0000, "ESP points at the loader's stack in low memory");

        // The GDT the vCPU would reload from says the same as the cached segment state.
        Assert.Equal(0x1F, s.Gdtr.Limit);
        Assert.Equal(0x00CF_9B00_0000_FFFFUL, memory.Map.ReadValue<ulong>(s.Gdtr.Base + 0x10));
        Assert.Equal(0x00CF_9300_0000_FFFFUL, memory.Map.ReadValue<ulong>(s.Gdtr.Base + 0x18));
        Assert.Equal(0UL, memory.Map.ReadValue<ulong>(s.Gdtr.Base));
        Assert.Equal(new DescriptorTableRegister(0, 0), s.Idtr);
    }

    [Fact]
    public void MultibootInfoDescribesMemoryCommandLineAndLoader()
    {
        using var memory = new TestGuestMemory(32 * MiB);
        var image = TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x100)], TestImages.MultibootHeader(0x2));

        var loaded = GuestImageLoader.Load(image, memory.Map, "console=ttyS0 quiet");
        ulong info = loaded.BootInfoAddress;
        var map = memory.Map;

        Assert.True(info < MiB, "the info structure lies below 1 MiB");
        uint flags = map.ReadValue<uint>(info);
        Assert.Equal(0x24DU, flags); // memory, cmdline, modules, mmap, loader name
        Assert.Equal(639U, map.ReadValue<uint>(info + 4)); // up to the EBDA, as the memory map says
        Assert.Equal((uint)((32 * MiB) - MiB) / 1024, map.ReadValue<uint>(info + 8));
        Assert.Equal("console=ttyS0 quiet", ReadCString(map, map.ReadValue<uint>(info + 16)));
        Assert.Equal(0U, map.ReadValue<uint>(info + 20));
        Assert.Equal("Actors", ReadCString(map, map.ReadValue<uint>(info + 64)));

        var entries = ReadMemoryMap(map, info);
        Assert.Equal([(0UL, 0x9FC00UL, 1U), (0x9FC00UL, MiB - 0x9FC00, 2U), (MiB, 31 * MiB, 1U), (0xFEC0_0000UL, 0x1000UL, 2U), (0xFEE0_0000UL, 0x1000UL, 2U)], entries);
    }

    [Fact]
    public void MemoryMapNeverReportsMmioAsRam()
    {
        using var ram = new GuestRam(8 * MiB);
        var map = new GuestPhysicalMap(ram);
        map.AddRam("low", 0, 4 * MiB, 0);
        map.AddMmio("hole", 4 * MiB, MiB);
        map.AddRam("high", 5 * MiB, 4 * MiB, 4 * MiB);
        var image = TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x100)], TestImages.MultibootHeader(0));

        var loaded = GuestImageLoader.Load(image, map);

        Assert.Equal([(0UL, 0x9FC00UL, 1U), (0x9FC00UL, MiB - 0x9FC00, 2U), (MiB, 3 * MiB, 1U), (4 * MiB, MiB, 2U), (5 * MiB, 4 * MiB, 1U)], ReadMemoryMap(map, loaded.BootInfoAddress));
        Assert.Equal((uint)(3 * MiB / 1024), map.ReadValue<uint>(loaded.BootInfoAddress + 8)); // mem_upper stops at the hole
    }

    [Fact]
    public void EmptyCommandLineIsStillAValidString()
    {
        using var memory = new TestGuestMemory();
        var image = TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x100)], TestImages.MultibootHeader(0));

        var loaded = GuestImageLoader.Load(image, memory.Map);

        Assert.Equal(string.Empty, ReadCString(memory.Map, memory.Map.ReadValue<uint>(loaded.BootInfoAddress + 16)));
    }

    [Fact]
    public void HigherHalfEntryIsTranslatedToItsPhysicalAddress()
    {
        using var memory = new TestGuestMemory();
        var text = TestSegment.Code(0x100000, 0x100, virtualAddress: 0xC010_0000);
        var image = TestImages.Elf32(0xC010_0020, [text], TestImages.MultibootHeader(0));

        var loaded = GuestImageLoader.Load(image, memory.Map);

        Assert.Equal(0x100020UL, loaded.InitialState.Rip);
        Assert.Equal(text.Data, memory.Read(0x100000, text.Data.Length));
    }

    [Fact]
    public void AddressFieldsLoadFromTheFileOffsetTheHeaderImplies()
    {
        using var memory = new TestGuestMemory();
        memory.Poison();
        var text = TestSegment.Code(0, 0x200).Data;
        var image = TestImages.AddressFieldsImage(text, loadAddress: 0x100000, bssBytes: 0x1000, entryOffset: 0x40, prefix: 0x80);

        var loaded = GuestImageLoader.Load(image, memory.Map);

        Assert.Equal(GuestImageFormat.MultibootAddressFields, loaded.Format);
        Assert.Equal(image.AsSpan(0x80).ToArray(), memory.Read(0x100000, 0x200));
        Assert.All(memory.Read(0x100200, 0x1000), b => Assert.Equal(0, b));
        Assert.Equal(0xCC, memory.Read(0x101200, 1)[0]);
        Assert.Equal(0xCC, memory.Read(0xFFFFF, 1)[0]); // the junk before the header is not loaded
        Assert.Equal(0x100040UL, loaded.InitialState.Rip);
        Assert.Equal(BootloaderMagic, loaded.InitialState.Gprs[0]);
        Assert.Equal(0x101200UL, loaded.ImageEnd);
    }

    [Fact]
    public void AddressFieldsWithZeroLoadEndLoadTheRestOfTheFile()
    {
        using var memory = new TestGuestMemory();
        var text = TestSegment.Code(0, 0x180).Data;
        TestImages.MultibootAddressHeader(0x200000, 0x200000, 0, 0, 0x200020).CopyTo(text, 0);

        var loaded = GuestImageLoader.Load(text, memory.Map);

        Assert.Equal(text, memory.Read(0x200000, text.Length));
        Assert.Equal(0x200180UL, loaded.ImageEnd);
    }

    [Fact]
    public void AddressFieldsWinOverElf32ProgramHeaders()
    {
        using var memory = new TestGuestMemory();
        // The ELF says 0x100000; the Multiboot address fields say 0x300000 and must be obeyed.
        var headerless = TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x100)], new byte[32]);
        int headerOffset = (TestImages.ProgramHeaderOffset(false) + 32 + 3) & ~3;
        uint loadAddress = 0x300000;
        TestImages.MultibootAddressHeader(loadAddress + (uint)headerOffset, loadAddress, 0, 0, loadAddress).CopyTo(headerless, headerOffset);

        var loaded = GuestImageLoader.Load(headerless, memory.Map);

        Assert.Equal(GuestImageFormat.MultibootAddressFields, loaded.Format);
        Assert.Equal(headerless, memory.Read(loadAddress, headerless.Length));
    }

    [Fact]
    public void Elf64IsEnteredInLongModeOnIdentityPageTables()
    {
        using var memory = new TestGuestMemory(64 * MiB);
        var text = TestSegment.Code(0x100000, 0x400, bss: 0x8000);
        var image = TestImages.Elf64(0x100080, [text]);

        var loaded = GuestImageLoader.Load(image, memory.Map);
        var s = loaded.InitialState;

        Assert.Equal(GuestImageFormat.Elf64, loaded.Format);
        Assert.Equal(text.Data, memory.Read(0x100000, text.Data.Length));
        Assert.Equal(0x100080UL, s.Rip);
        Assert.Equal(0x2UL, s.Rflags);
        const ulong pe = 1, et = 1 << 4, ne = 1 << 5, wp = 1 << 16, pg = 1UL << 31;
        Assert.Equal(pe | et | ne | wp | pg, s.Cr0 & (pe | et | ne | wp | pg));
        Assert.Equal(0UL, s.Cr0 & ((1 << 29) | (1 << 30))); // caches on: NW = CD = 0
        Assert.Equal(1UL << 5, s.Cr4 & (1UL << 5)); // PAE
        Assert.Equal(0xD00UL, s.Efer); // LME | LMA | NXE
        Assert.Equal(loaded.PageTableRoot, s.Cr3);
        Assert.True(s.Cs.Long);
        Assert.False(s.Cs.DefaultBig);
        Assert.Equal((ushort)0x10, s.Cs.Selector);
        Assert.Equal(SegmentRegister.Long64(0x18, code: false), s.Ss);
        Assert.Equal(0x00AF_9B00_0000_FFFFUL, memory.Map.ReadValue<ulong>(s.Gdtr.Base + 0x10));
        Assert.Equal(BootloaderMagic, s.Gprs[0]);
        Assert.Equal(loaded.BootInfoAddress, s.Gprs[3]);

        foreach (ulong address in new ulong[] { 0, 0x100080, 0x3F_FFFF, 63 * MiB + 5, 0xFEC0_0000, 0xFEE0_0030, 0xFFFF_FFFF })
            Assert.Equal(address, Translate(memory.Map, s.Cr3, address));
    }

    [Fact]
    public void PageTablesMarkApicPagesUncachedAndRamCached()
    {
        using var memory = new TestGuestMemory();
        var loaded = GuestImageLoader.Load(TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x100)]), memory.Map);

        const ulong pcd = 1 << 4;
        Assert.Equal(pcd, LeafEntry(memory.Map, loaded.PageTableRoot, 0xFEE0_0000) & pcd);
        Assert.Equal(0UL, LeafEntry(memory.Map, loaded.PageTableRoot, 0x100000) & pcd);
    }

    [Fact]
    public void LoaderStructuresAvoidTheImage()
    {
        using var memory = new TestGuestMemory();
        // The image takes the spot QEMU uses for boot data, so the loader must go elsewhere.
        var low = TestSegment.Code(0x8000, 0x100, bss: 0x20000);
        var image = TestImages.Elf64(0x8000, [low]);

        var loaded = GuestImageLoader.Load(image, memory.Map);

        Assert.True(loaded.BootInfoAddress >= 0x28100 && loaded.BootInfoAddress < 0xA0000, $"info at 0x{loaded.BootInfoAddress:x}");
        Assert.True(loaded.PageTableRoot >= 0x28100, $"page tables at 0x{loaded.PageTableRoot:x}");
        Assert.Equal(low.Data, memory.Read(0x8000, low.Data.Length));
        Assert.All(memory.Read(0x8100, 0x20000), b => Assert.Equal(0, b));
        Assert.Equal(0x8000UL, Translate(memory.Map, loaded.PageTableRoot, 0x8000));
    }

    [Fact]
    public void LoaderStructuresStayOutOfTheBiosArea()
    {
        using var memory = new TestGuestMemory();
        // The first free RAM after the image would be 0xA0000, in the legacy area the firmware tables need.
        var image = TestImages.Elf64(0xB000, [TestSegment.Code(0xB000, 0x100, bss: 0x95000 - 0x100)]);

        var loaded = GuestImageLoader.Load(image, memory.Map);

        Assert.True(loaded.BootInfoAddress < 0x9FC00, $"info at 0x{loaded.BootInfoAddress:x}");
        Assert.True(loaded.PageTableRoot >= MiB, $"page tables at 0x{loaded.PageTableRoot:x}");
    }

    [Fact]
    public void Elf64WinsOverItsMultibootHeader()
    {
        using var memory = new TestGuestMemory();
        // Like compute.elf: an ELF64 whose Multiboot header would send QEMU to a 32-bit trampoline.
        var multiboot = TestImages.MultibootAddressHeader(0x100000, 0x100000, 0, 0, 0x100000);
        var image = TestImages.Elf64(0x100040, [TestSegment.Code(0x100000, 0x100)], multiboot);

        var loaded = GuestImageLoader.Load(image, memory.Map);

        Assert.Equal(GuestImageFormat.Elf64, loaded.Format);
        Assert.Equal(0x100040UL, loaded.InitialState.Rip);
        Assert.True(loaded.InitialState.Cs.Long);
    }

    [Fact]
    public void LoadingTwiceIntoTheSameMemoryGivesTheSameResult()
    {
        using var memory = new TestGuestMemory();
        var image = TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x100, bss: 0x100)]);

        var first = GuestImageLoader.Load(image, memory.Map);
        var second = GuestImageLoader.Load(image, memory.Map);

        Assert.Equal(first.BootInfoAddress, second.BootInfoAddress);
        Assert.Equal(first.PageTableRoot, second.PageTableRoot);
    }

    [Fact]
    public void LoadingMarksWrittenPagesDirty()
    {
        using var memory = new TestGuestMemory();
        var image = TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x100, bss: 0x3000)], TestImages.MultibootHeader(0));

        GuestImageLoader.Load(image, memory.Map);

        for (ulong page = 0x100; page <= 0x103; page++)
            Assert.True(memory.Map.DirtyLog.IsDirty(page), $"page 0x{page:x}");
        Assert.False(memory.Map.DirtyLog.IsDirty(0x200));
    }

    internal static string ReadCString(GuestPhysicalMap map, ulong address)
    {
        var bytes = new List<byte>();
        for (byte b; (b = map.ReadValue<byte>(address)) != 0; address++)
            bytes.Add(b);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    internal static List<(ulong Base, ulong Length, uint Type)> ReadMemoryMap(GuestPhysicalMap map, ulong info)
    {
        uint length = map.ReadValue<uint>(info + 44);
        ulong address = map.ReadValue<uint>(info + 48);
        var entries = new List<(ulong, ulong, uint)>();
        for (ulong end = address + length; address < end;)
        {
            uint size = map.ReadValue<uint>(address);
            entries.Add((map.ReadValue<ulong>(address + 4), map.ReadValue<ulong>(address + 12), map.ReadValue<uint>(address + 20)));
            address += size + 4;
        }
        return entries;
    }

    private static ulong LeafEntry(GuestPhysicalMap map, ulong cr3, ulong address)
    {
        const ulong present = 1, largePage = 1 << 7, frame = 0x000F_FFFF_FFFF_F000;
        ulong pml4e = map.ReadValue<ulong>((cr3 & frame) + (((address >> 39) & 511) * 8));
        Assert.Equal(present, pml4e & present);
        ulong pdpte = map.ReadValue<ulong>((pml4e & frame) + (((address >> 30) & 511) * 8));
        Assert.Equal(present, pdpte & present);
        Assert.Equal(0UL, pdpte & largePage);
        ulong pde = map.ReadValue<ulong>((pdpte & frame) + (((address >> 21) & 511) * 8));
        Assert.Equal(present, pde & present);
        Assert.Equal(largePage, pde & largePage);
        return pde;
    }

    private static ulong Translate(GuestPhysicalMap map, ulong cr3, ulong address) =>
        (LeafEntry(map, cr3, address) & 0x000F_FFFF_FFE0_0000) + (address & 0x1F_FFFF);
}
