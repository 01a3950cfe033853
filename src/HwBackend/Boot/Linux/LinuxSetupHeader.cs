using System.Buffers.Binary;

namespace Actors.HwBackend.Boot.Linux;

/// <summary>
/// The setup header of a Linux/x86 bzImage (the kernel's Documentation/arch/x86/boot.rst): the
/// fields a 64-bit boot loader reads, checked as it must check them. Offsets are from the start
/// of the file, which is also the start of the zero page's copy of the header.
/// </summary>
internal readonly record struct LinuxSetupHeader(
    int SetupSectors,
    ushort Version,
    byte LoadFlags,
    uint InitrdAddressMax,
    uint KernelAlignment,
    ushort ExtendedLoadFlags,
    uint CommandLineSize,
    ulong PreferredAddress,
    uint InitSize,
    int HeaderEnd)
{
    public const int SetupSectorsOffset = 0x1F1;
    public const int SystemSizeOffset = 0x1F4;
    public const int BootFlagOffset = 0x1FE;
    public const int JumpOffset = 0x200;
    public const int MagicOffset = 0x202;
    public const int VersionOffset = 0x206;
    public const int TypeOfLoaderOffset = 0x210;
    public const int LoadFlagsOffset = 0x211;
    public const int RamdiskImageOffset = 0x218;
    public const int RamdiskSizeOffset = 0x21C;
    public const int HeapEndOffset = 0x224;
    public const int CommandLinePointerOffset = 0x228;
    public const int InitrdAddressMaxOffset = 0x22C;
    public const int KernelAlignmentOffset = 0x230;
    public const int RelocatableOffset = 0x234;
    public const int ExtendedLoadFlagsOffset = 0x236;
    public const int CommandLineSizeOffset = 0x238;
    public const int PreferredAddressOffset = 0x258;
    public const int InitSizeOffset = 0x260;

    public const ushort BootFlag = 0xAA55;
    public const uint Magic = 0x5372_6448; // "HdrS"
    public const ushort MinimumVersion = 0x020C; // 2.12: xloadflags, so the 64-bit entry is declared

    public const byte LoadedHigh = 1 << 0;
    public const byte CanUseHeap = 1 << 7;
    public const ushort Kernel64 = 1 << 0; // XLF_KERNEL_64: startup_64 sits 0x200 past the load address

    private const int SectorSize = 512;
    private const int DefaultSetupSectors = 4;
    private const int MaxSetupSectors = 64;

    /// <summary>Where the protected-mode kernel starts in the file.</summary>
    public int KernelOffset => (SetupSectors + 1) * SectorSize;

    /// <summary>True for a file with the boot sector flag and the setup header magic, whatever else is wrong with it.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> image) =>
        image.Length >= MagicOffset + 4
        && BinaryPrimitives.ReadUInt16LittleEndian(image[BootFlagOffset..]) == BootFlag
        && BinaryPrimitives.ReadUInt32LittleEndian(image[MagicOffset..]) == Magic;

    /// <summary>Reads and checks the header; anything a 64-bit loader cannot boot is a one-line <see cref="GuestImageException"/>.</summary>
    public static LinuxSetupHeader Parse(ReadOnlySpan<byte> image)
    {
        if (!HasMagic(image))
            throw new GuestImageException("not a Linux bzImage: no boot flag 0xAA55 at 0x1FE and setup header magic 'HdrS' at 0x202");
        if (image.Length < InitSizeOffset + 4)
            throw new GuestImageException($"bzImage truncated: {image.Length} bytes, shorter than its setup header");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(image[VersionOffset..]);
        if (version < MinimumVersion)
            throw new GuestImageException($"bzImage boot protocol {version >> 8}.{version & 0xFF} is older than 2.12, which a 64-bit entry needs");
        int sectors = image[SetupSectorsOffset] == 0 ? DefaultSetupSectors : image[SetupSectorsOffset];
        if (sectors > MaxSetupSectors)
            throw new GuestImageException($"bzImage claims {sectors} setup sectors; real ones have at most {MaxSetupSectors}");
        byte loadFlags = image[LoadFlagsOffset];
        if ((loadFlags & LoadedHigh) == 0)
            throw new GuestImageException("bzImage is not loaded high (loadflags bit 0 clear): a zImage, which only a real-mode boot can run");
        if (image[RelocatableOffset] == 0)
            throw new GuestImageException("bzImage is not relocatable (relocatable_kernel is 0)");
        ushort extended = BinaryPrimitives.ReadUInt16LittleEndian(image[ExtendedLoadFlagsOffset..]);
        if ((extended & Kernel64) == 0)
            throw new GuestImageException("bzImage has no 64-bit entry point (xloadflags bit XLF_KERNEL_64 clear)");
        uint alignment = BinaryPrimitives.ReadUInt32LittleEndian(image[KernelAlignmentOffset..]);
        if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > 1u << 30)
            throw new GuestImageException($"bzImage kernel_alignment 0x{alignment:x} is not a power of two up to 1 GiB");
        // The header the zero page copies runs from 0x1F1 to the end the jump at 0x200 points past.
        int headerEnd = JumpOffset + 2 + image[JumpOffset + 1];
        var header = new LinuxSetupHeader(
            SetupSectors: sectors,
            Version: version,
            LoadFlags: loadFlags,
            InitrdAddressMax: BinaryPrimitives.ReadUInt32LittleEndian(image[InitrdAddressMaxOffset..]),
            KernelAlignment: alignment,
            ExtendedLoadFlags: extended,
            CommandLineSize: BinaryPrimitives.ReadUInt32LittleEndian(image[CommandLineSizeOffset..]),
            PreferredAddress: BinaryPrimitives.ReadUInt64LittleEndian(image[PreferredAddressOffset..]),
            InitSize: BinaryPrimitives.ReadUInt32LittleEndian(image[InitSizeOffset..]),
            HeaderEnd: headerEnd);
        if (headerEnd > header.KernelOffset || headerEnd <= InitSizeOffset)
            throw new GuestImageException($"bzImage setup header ends at 0x{headerEnd:x}, outside its {sectors} setup sectors");
        // syssize counts the protected-mode kernel in 16-byte paragraphs: a cut-off download is caught here.
        long kernelBytes = 16L * BinaryPrimitives.ReadUInt32LittleEndian(image[SystemSizeOffset..]);
        if (kernelBytes == 0 || image.Length < header.KernelOffset + kernelBytes)
            throw new GuestImageException($"bzImage truncated: {image.Length} bytes, but its header says {header.KernelOffset + kernelBytes}");
        if (header.InitSize < image.Length - header.KernelOffset)
            throw new GuestImageException($"bzImage init_size 0x{header.InitSize:x} is smaller than its {image.Length - header.KernelOffset}-byte kernel");
        return header;
    }
}
