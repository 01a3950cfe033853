using System.Buffers.Binary;

namespace Actors.HwBackend.Boot;

/// <summary>A Multiboot v1 header found in a guest image (GNU Multiboot specification 0.6.96, section 3.1).</summary>
internal readonly record struct MultibootHeader(
    int Offset,
    uint Flags,
    uint HeaderAddress,
    uint LoadAddress,
    uint LoadEndAddress,
    uint BssEndAddress,
    uint EntryAddress)
{
    public const uint HeaderMagic = 0x1BAD_B002;
    public const uint BootloaderMagic = 0x2BAD_B002;
    public const int SearchLength = 8192;
    public const uint AddressFieldsFlag = 1u << 16;

    private const int FixedPartSize = 12;
    private const int AddressFieldsEnd = 32;

    // Bits 0-15 are requirements: a loader must refuse a kernel that asks for one it does not
    // know. Bit 2 (video mode) is tolerated the way QEMU tolerates it, because we have no
    // framebuffer to offer and text-mode kernels set it by habit.
    private const uint UnderstoodRequirements = 0b111;

    public bool HasAddressFields => (Flags & AddressFieldsFlag) != 0;

    /// <summary>
    /// The first valid header in the first 8 KiB, or null when there is none. A magic value
    /// with a bad checksum is skipped like GRUB does, but when no valid header follows, the bad
    /// one is reported: it is almost certainly the header the kernel meant to have.
    /// </summary>
    public static MultibootHeader? Find(ReadOnlySpan<byte> image)
    {
        int searchEnd = Math.Min(image.Length, SearchLength);
        int badChecksumOffset = -1;
        uint badChecksumSum = 0;
        for (int offset = 0; offset + FixedPartSize <= searchEnd; offset += 4)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(image[offset..]) != HeaderMagic)
                continue;
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(image[(offset + 4)..]);
            uint checksum = BinaryPrimitives.ReadUInt32LittleEndian(image[(offset + 8)..]);
            uint sum = unchecked(HeaderMagic + flags + checksum);
            if (sum != 0)
            {
                if (badChecksumOffset < 0)
                {
                    badChecksumOffset = offset;
                    badChecksumSum = sum;
                }
                continue;
            }
            return Parse(image, offset, flags);
        }
        if (badChecksumOffset >= 0)
            throw new GuestImageException($"Multiboot header at file offset 0x{badChecksumOffset:x} has a bad checksum (magic + flags + checksum = 0x{badChecksumSum:x8}, must be 0)");
        return null;
    }

    private static MultibootHeader Parse(ReadOnlySpan<byte> image, int offset, uint flags)
    {
        uint unknown = flags & 0xFFFF & ~UnderstoodRequirements;
        if (unknown != 0)
            throw new GuestImageException($"Multiboot header at file offset 0x{offset:x} requires features this loader does not offer (flags bits 0x{unknown:x})");
        if ((flags & AddressFieldsFlag) == 0)
            return new MultibootHeader(offset, flags, 0, 0, 0, 0, 0);
        if (offset + AddressFieldsEnd > image.Length)
            throw new GuestImageException($"Multiboot header at file offset 0x{offset:x} sets flag 16 but the image ends before its address fields");
        var fields = image.Slice(offset + FixedPartSize, AddressFieldsEnd - FixedPartSize);
        return new MultibootHeader(
            offset,
            flags,
            HeaderAddress: BinaryPrimitives.ReadUInt32LittleEndian(fields),
            LoadAddress: BinaryPrimitives.ReadUInt32LittleEndian(fields[4..]),
            LoadEndAddress: BinaryPrimitives.ReadUInt32LittleEndian(fields[8..]),
            BssEndAddress: BinaryPrimitives.ReadUInt32LittleEndian(fields[12..]),
            EntryAddress: BinaryPrimitives.ReadUInt32LittleEndian(fields[16..]));
    }
}
