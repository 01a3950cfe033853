using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Tests.Memory;
using Actors.Tests.Shared;
using Xunit;

namespace Actors.HwBackend.Tests.Boot.Linux;

/// <summary>The bzImage loader on synthetic kernels: where everything lands, and what is refused.</summary>
public sealed class LinuxKernelLoaderTests
{
    private const ulong MiB = 1 << 20;
    private const int SetupSectors = 4;
    private const int KernelBytes = 0x3000;

    [Fact]
    public void TheKernelGoesToItsPreferredAddressAndTheZeroPageDescribesTheBoot()
    {
        using var memory = new TestGuestMemory(64 * MiB);
        byte[] kernel = BzImage(preferred: 0x1000000);
        byte[] initrd = Cpio(("init", "#!/bin/sh\n"));

        LoadedGuestImage loaded = GuestImageLoader.Load(kernel, memory.Map, "console=ttyS0 panic=-1", initrd);

        Assert.Equal(GuestImageFormat.LinuxBzImage, loaded.Format);
        Assert.Equal(0x1000000UL + 0x200, loaded.EntryPoint);
        Assert.Equal(kernel.AsSpan((SetupSectors + 1) * 512).ToArray(), memory.Read(0x1000000, KernelBytes));
        ulong zeroPage = loaded.BootInfoAddress;
        Assert.Equal(zeroPage, loaded.InitialState.Gprs[6]);
        Assert.Equal(0x10UL, loaded.InitialState.Cs.Selector);
        Assert.True((loaded.InitialState.Efer & (1 << 10)) != 0, "long mode is active");

        byte[] page = memory.Read(zeroPage, 4096);
        Assert.Equal(0xFF, page[0x210]);
        Assert.Equal(0x5372_6448u, BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x202)));
        uint commandLine = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x228));
        Assert.Equal("console=ttyS0 panic=-1\0", Encoding.ASCII.GetString(memory.Read(commandLine, 23)));
        Assert.Equal(FirmwareTables.RsdpAddress, BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan(0x070)));

        // The initrd sits page-aligned at the top of RAM, where QEMU puts it.
        uint initrdBase = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x218));
        Assert.Equal((uint)initrd.Length, BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(0x21C)));
        Assert.Equal(0u, initrdBase % 4096);
        Assert.True(initrdBase + (ulong)initrd.Length <= 64 * MiB && initrdBase + (ulong)initrd.Length > 64 * MiB - 4096);
        Assert.Equal(initrd, memory.Read(initrdBase, initrd.Length));

        // The e820 map: low RAM, the legacy hole reserved, RAM from 1 MiB to the end, then the APIC windows reserved.
        Assert.Equal(5, page[0x1E8]);
        Assert.Equal((0UL, 0x9FC00UL, 1u), E820(page, 0));
        Assert.Equal((0x100000UL, 63 * MiB, 1u), E820(page, 2));
        Assert.Equal(2u, E820(page, 1).Type);
    }

    [Fact]
    public void AKernelWithoutRoomAtItsPreferredAddressGoesToTheFirstAlignedOne()
    {
        using var memory = new TestGuestMemory(16 * MiB);
        LoadedGuestImage loaded = GuestImageLoader.Load(BzImage(preferred: 0x1000000), memory.Map, null);
        Assert.Equal(0x200000UL + 0x200, loaded.EntryPoint);
    }

    [Fact]
    public void AGzipInitrdIsReadToItsEnd()
    {
        using var memory = new TestGuestMemory(64 * MiB);
        byte[] initrd = Gzip(Cpio(("init", "#!/bin/sh\necho hi\n")));
        GuestImageLoader.Load(BzImage(), memory.Map, null, initrd);

        var truncated = Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(BzImage(), memory.Map, null, initrd.AsSpan(0, initrd.Length - 12)));
        Assert.Contains("truncated", truncated.Message);
    }

    [Fact]
    public void ConcatenatedArchivesAreAnInitrdAsTheKernelTakesThem()
    {
        using var memory = new TestGuestMemory(64 * MiB);
        byte[] first = Gzip(Cpio(("bin/busybox", "not really")));
        byte[] padded = [.. first, .. new byte[(512 - (first.Length % 512)) % 512]];
        byte[] initrd = [.. padded, .. Cpio(("init", "#!/bin/sh\n"))];

        LoadedGuestImage loaded = GuestImageLoader.Load(BzImage(), memory.Map, null, initrd);

        Assert.Equal(GuestImageFormat.LinuxBzImage, loaded.Format);
    }

    public static TheoryData<string, string> BadKernels => new()
    {
        { "no-magic", "neither a Linux bzImage" },
        { "old-protocol", "older than 2.12" },
        { "truncated", "bzImage truncated" },
        { "not-64-bit", "no 64-bit entry point" },
        { "not-relocatable", "not relocatable" },
    };

    [Theory]
    [MemberData(nameof(BadKernels))]
    public void ABadKernelIsRefusedInOneLine(string damage, string expected)
    {
        using var memory = new TestGuestMemory(64 * MiB);
        byte[] kernel = BzImage();
        switch (damage)
        {
            case "no-magic": kernel[0x202] = (byte)'X'; break;
            case "old-protocol": BinaryPrimitives.WriteUInt16LittleEndian(kernel.AsSpan(0x206), 0x020A); break;
            case "truncated": kernel = kernel[..^0x100]; break;
            case "not-64-bit": kernel[0x236] = 0; break;
            case "not-relocatable": kernel[0x234] = 0; break;
        }

        var refused = Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(kernel, memory.Map, "console=ttyS0"));
        Assert.Contains(expected, refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public void AnInitrdThatIsNotOneOrDoesNotFitIsRefused()
    {
        using var memory = new TestGuestMemory(64 * MiB);
        Assert.Contains("not an initrd", Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(BzImage(), memory.Map, null, new byte[100])).Message);
        byte[] huge = Cpio(("big", new string('x', (int)(60 * MiB))));
        Assert.Contains("does not fit", Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(BzImage(), memory.Map, null, huge)).Message);
        byte[] cut = Cpio(("init", "#!/bin/sh\n"))[..^40];
        Assert.Contains("truncated", Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(BzImage(), memory.Map, null, cut)).Message);
    }

    [Fact]
    public void ACommandLineLongerThanTheKernelTakesIsRefused()
    {
        using var memory = new TestGuestMemory(64 * MiB);
        var refused = Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(BzImage(), memory.Map, new string('a', 3000)));
        Assert.Contains("takes at most 2047", refused.Message);
    }

    private static (ulong Base, ulong Length, uint Type) E820(byte[] page, int index)
    {
        ReadOnlySpan<byte> entry = page.AsSpan(0x2D0 + (index * 20), 20);
        return (BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]), BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]));
    }

    /// <summary>The setup header of a 6.1 x86-64 kernel around a body of recognisable bytes.</summary>
    private static byte[] BzImage(ulong preferred = 0x1000000)
    {
        int setup = (SetupSectors + 1) * 512;
        var image = new byte[setup + KernelBytes];
        Span<byte> s = image;
        s[0x1F1] = SetupSectors;
        BinaryPrimitives.WriteUInt32LittleEndian(s[0x1F4..], KernelBytes / 16);
        BinaryPrimitives.WriteUInt16LittleEndian(s[0x1FE..], 0xAA55);
        s[0x200] = 0xEB;
        s[0x201] = 0x6A; // the jump past the header, to 0x26C
        BinaryPrimitives.WriteUInt32LittleEndian(s[0x202..], 0x5372_6448);
        BinaryPrimitives.WriteUInt16LittleEndian(s[0x206..], 0x020F);
        s[0x211] = 0x01;
        BinaryPrimitives.WriteUInt32LittleEndian(s[0x22C..], 0x7FFF_FFFF);
        BinaryPrimitives.WriteUInt32LittleEndian(s[0x230..], 0x20_0000);
        s[0x234] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(s[0x236..], 0x7F);
        BinaryPrimitives.WriteUInt32LittleEndian(s[0x238..], 2047);
        BinaryPrimitives.WriteUInt64LittleEndian(s[0x258..], preferred);
        BinaryPrimitives.WriteUInt32LittleEndian(s[0x260..], 0x80_0000);
        for (int i = setup; i < image.Length; i++)
            image[i] = (byte)(i * 7);
        return image;
    }

    private static byte[] Cpio(params (string Name, string Content)[] files) =>
        StockLinux.NewcArchive([.. files.Select(f => (f.Name, Encoding.ASCII.GetBytes(f.Content), 0x81ED))]);

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(data);
        return output.ToArray();
    }
}
