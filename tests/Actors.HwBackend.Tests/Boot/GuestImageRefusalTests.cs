using System.Buffers.Binary;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Tests.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Boot;

/// <summary>Each way an image can be wrong gives a <see cref="GuestImageException"/> whose one-line message names the problem.</summary>
public sealed class GuestImageRefusalTests
{
    private static readonly byte[] Multiboot = TestImages.MultibootHeader(0);

    public static TheoryData<string, byte[], string> BadImages()
    {
        var data = new TheoryData<string, byte[], string>
        {
            { "empty", [], "empty" },
            { "text file", "#!/bin/sh\necho hello\n"u8.ToArray(), "not a guest image" },
            { "ELF32 without Multiboot header", TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x10)]), "no Multiboot header" },
            { "bad checksum", WithPrefix(TestImages.MultibootHeader(0, checksum: 0x1234)), "bad checksum" },
            { "unsupported Multiboot requirement", TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x10)], TestImages.MultibootHeader(1 << 5)), "requires features" },
            { "Multiboot without address fields in a non-ELF file", WithPrefix(Multiboot), "not ELF" },
            { "address fields cut off", TestImages.MultibootHeader(TestImages.AddressFieldsFlag), "ends before its address fields" },
            { "truncated ELF64 header", TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10)])[..40], "ELF64 header truncated" },
            { "truncated ELF32 header", Truncated(TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x10)], Multiboot), 48, Multiboot), "ELF32 header truncated" },
            { "ELF64 for another machine", TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10)], machine: 183), "not x86-64" },
            { "ELF32 for another machine", TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x10)], Multiboot, machine: 40), "not i386" },
            { "shared object", TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10)], type: 3), "not an executable" },
            { "big-endian", Patched(TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10)]), 5, 2), "not little-endian" },
            { "unknown ELF class", Patched(TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x10)], Multiboot), 4, 7), "unknown class" },
            { "no program headers", Patched16(TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10)]), 56, 0), "no program headers" },
            { "program header table past the end", Patched16(TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10)]), 56, 500), "program header table" },
            { "tiny program header size", Patched16(TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10)]), 54, 20), "program header size" },
            { "no PT_LOAD", TestImages.Elf64(0x100000, [new TestSegment(0x100000, new byte[16], 16, Type: 4)]), "no loadable" },
            { "segment data past the end", Patched64(TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10)]), 64 + 8, 0x10000), "beyond the end" },
            { "p_filesz > p_memsz", Patched64(TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10)]), 64 + 40, 4), "larger than p_memsz" },
            { "segment larger than RAM", TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x10, bss: 64 << 20)]), "more than guest RAM" },
            { "segment outside RAM", TestImages.Elf64(0x8000_0000, [TestSegment.Code(0x8000_0000, 0x10)]), "outside guest RAM" },
            { "segment over the local APIC", TestImages.Elf64(0xFEE0_0000, [TestSegment.Code(0xFEE0_0000, 0x10)]), "overlaps the MMIO region 'lapic'" },
            { "segment wrapping the address space", TestImages.Elf64(0xFFFF_FFFF_FFFF_F000, [TestSegment.Code(0xFFFF_FFFF_FFFF_F000, 0x10, bss: 0x2000)]), "wraps around" },
            { "ELF32 segment past 4 GiB", TestImages.Elf32(0xFFFF_F000, [TestSegment.Code(0xFFFF_F000, 0x10, bss: 0x2000)], Multiboot), "beyond 4 GiB" },
            { "entry outside the image", TestImages.Elf64(0x500000, [TestSegment.Code(0x100000, 0x10)]), "entry point 0x500000" },
            { "address fields: load_addr above header_addr", AddressFields(headerAddress: 0x100000, loadAddress: 0x100010, loadEnd: 0, bssEnd: 0, entry: 0x100010), "above header_addr" },
            { "address fields: load start before the file", AddressFields(headerAddress: 0x101000, loadAddress: 0x100000, loadEnd: 0, bssEnd: 0, entry: 0x100000), "before the header" },
            { "address fields: truncated", AddressFields(headerAddress: 0x100000, loadAddress: 0x100000, loadEnd: 0x110000, bssEnd: 0, entry: 0x100000), "image truncated" },
            { "address fields: load_end below load_addr", AddressFields(headerAddress: 0x100000, loadAddress: 0x100000, loadEnd: 0xF0000, bssEnd: 0, entry: 0x100000), "load_end_addr" },
            { "address fields: bss_end below load end", AddressFields(headerAddress: 0x100000, loadAddress: 0x100000, loadEnd: 0x100040, bssEnd: 0x100020, entry: 0x100000), "bss_end_addr" },
            { "address fields: entry outside", AddressFields(headerAddress: 0x100000, loadAddress: 0x100000, loadEnd: 0, bssEnd: 0, entry: 0x200000), "entry point" },
            { "address fields: over MMIO", AddressFields(headerAddress: 0xFEC0_0000, loadAddress: 0xFEC0_0000, loadEnd: 0, bssEnd: 0, entry: 0xFEC0_0000), "overlaps the MMIO region 'ioapic'" },
            { "address fields: load nothing", AddressFields(headerAddress: 0x100000, loadAddress: 0x100000, loadEnd: 0x100000, bssEnd: 0, entry: 0x100000), "load nothing" },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(BadImages))]
    public void BadImageIsRefusedWithAClearMessage(string what, byte[] image, string expected)
    {
        using var memory = new TestGuestMemory();

        var ex = Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(image, memory.Map));

        Assert.True(ex.Message.Contains(expected, StringComparison.Ordinal), $"{what}: '{ex.Message}' should mention '{expected}'");
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void NoRoomForBootDataIsRefused()
    {
        using var memory = new TestGuestMemory();
        // The image fills everything the boot data may use (0x9000-0x9FC00).
        var image = TestImages.Elf32(0x1000, [TestSegment.Code(0x1000, 0x10, bss: 0x100000)], Multiboot);

        var ex = Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(image, memory.Map));

        Assert.Contains("no room for the boot data", ex.Message);
    }

    [Fact]
    public void CommandLineWithNulIsRefused()
    {
        using var memory = new TestGuestMemory();
        var image = TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x10)], Multiboot);

        var ex = Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(image, memory.Map, "a\0b"));

        Assert.Contains("NUL", ex.Message);
    }

    [Fact]
    public void RefusedImageWritesNothing()
    {
        using var memory = new TestGuestMemory();
        var image = TestImages.Elf64(0x100000, [TestSegment.Code(0x100000, 0x100), TestSegment.Code(0xFEE0_0000, 0x10)]);

        Assert.Throws<GuestImageException>(() => GuestImageLoader.Load(image, memory.Map));

        Assert.Equal(0UL, memory.Map.DirtyLog.CountDirty());
    }

    private static byte[] WithPrefix(byte[] header)
    {
        var image = new byte[0x200];
        header.CopyTo(image, 0x40);
        return image;
    }

    private static byte[] AddressFields(uint headerAddress, uint loadAddress, uint loadEnd, uint bssEnd, uint entry)
    {
        var image = new byte[0x100];
        TestImages.MultibootAddressHeader(headerAddress, loadAddress, loadEnd, bssEnd, entry).CopyTo(image, 0);
        return image;
    }

    /// <summary>An ELF32 cut to <paramref name="length"/> bytes that still carries its Multiboot header, so it reaches the ELF parser.</summary>
    private static byte[] Truncated(byte[] elf, int length, byte[] multiboot)
    {
        var image = elf[..length];
        multiboot.CopyTo(image, 32);
        return image;
    }

    private static byte[] Patched(byte[] image, int offset, byte value)
    {
        image[offset] = value;
        return image;
    }

    private static byte[] Patched16(byte[] image, int offset, ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(offset), value);
        return image;
    }

    private static byte[] Patched64(byte[] image, int offset, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(offset), value);
        return image;
    }
}
