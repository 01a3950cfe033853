using System.Buffers.Binary;

namespace Actors.HwBackend.Boot;

/// <summary>
/// The parts of an ELF executable a loader needs: entry point and PT_LOAD segments. Every field
/// read from the file is range-checked before use, because images are untrusted input.
/// </summary>
internal sealed class ElfExecutable
{
    public const byte Class32 = 1;
    public const byte Class64 = 2;
    public const ushort MachineI386 = 3;
    public const ushort MachineX86_64 = 62;

    private const byte LittleEndian = 1;
    private const byte CurrentVersion = 1;
    private const ushort TypeExecutable = 2;
    private const uint ProgramTypeLoad = 1;
    private const ushort ExtendedProgramHeaderCount = 0xFFFF;

    private ElfExecutable(bool is64, ulong entry, List<ElfLoadSegment> segments)
    {
        Is64 = is64;
        Entry = entry;
        Segments = segments;
    }

    public bool Is64 { get; }

    public ulong Entry { get; }

    public IReadOnlyList<ElfLoadSegment> Segments { get; }

    public string Kind => Is64 ? "ELF64" : "ELF32";

    public static bool HasMagic(ReadOnlySpan<byte> image) =>
        image.Length >= 4 && image[0] == 0x7F && image[1] == (byte)'E' && image[2] == (byte)'L' && image[3] == (byte)'F';

    /// <summary>EI_CLASS, or 0 when the image is too short to have one.</summary>
    public static byte ClassOf(ReadOnlySpan<byte> image) => image.Length > 4 ? image[4] : (byte)0;

    public static ElfExecutable Parse(ReadOnlySpan<byte> image, bool is64)
    {
        string kind = is64 ? "ELF64" : "ELF32";
        int headerSize = is64 ? 64 : 52;
        int entrySize = is64 ? 56 : 32;
        if (image.Length < headerSize)
            throw new GuestImageException($"{kind} header truncated: the image has {image.Length} bytes, the header needs {headerSize}");
        if (image[5] != LittleEndian)
            throw new GuestImageException($"{kind} image is not little-endian (EI_DATA = {image[5]})");
        if (image[6] != CurrentVersion)
            throw new GuestImageException($"{kind} image has unknown ELF version {image[6]}");

        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(image[16..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(image[18..]);
        ushort expectedMachine = is64 ? MachineX86_64 : MachineI386;
        if (machine != expectedMachine)
            throw new GuestImageException($"{kind} image is for ELF machine {machine}, not {(is64 ? "x86-64" : "i386")} ({expectedMachine})");
        if (type != TypeExecutable)
            throw new GuestImageException($"{kind} image is not an executable (e_type = {type}); link it as a static, non-PIE executable");

        ulong entry, tableOffset;
        ushort tableEntrySize, tableCount;
        if (is64)
        {
            entry = BinaryPrimitives.ReadUInt64LittleEndian(image[24..]);
            tableOffset = BinaryPrimitives.ReadUInt64LittleEndian(image[32..]);
            tableEntrySize = BinaryPrimitives.ReadUInt16LittleEndian(image[54..]);
            tableCount = BinaryPrimitives.ReadUInt16LittleEndian(image[56..]);
        }
        else
        {
            entry = BinaryPrimitives.ReadUInt32LittleEndian(image[24..]);
            tableOffset = BinaryPrimitives.ReadUInt32LittleEndian(image[28..]);
            tableEntrySize = BinaryPrimitives.ReadUInt16LittleEndian(image[42..]);
            tableCount = BinaryPrimitives.ReadUInt16LittleEndian(image[44..]);
        }

        if (tableCount == 0)
            throw new GuestImageException($"{kind} image has no program headers");
        if (tableCount == ExtendedProgramHeaderCount)
            throw new GuestImageException($"{kind} image uses extended program header numbering (e_phnum = 0xffff), which is not supported");
        if (tableEntrySize < entrySize)
            throw new GuestImageException($"{kind} program header size {tableEntrySize} is smaller than the {entrySize} bytes of a program header");
        ulong imageLength = (ulong)image.Length;
        ulong tableSize = (ulong)tableCount * tableEntrySize;
        if (tableOffset > imageLength || tableSize > imageLength - tableOffset)
            throw new GuestImageException($"{kind} program header table (offset 0x{tableOffset:x}, {tableSize} bytes) lies beyond the end of the {imageLength}-byte image");

        var segments = new List<ElfLoadSegment>();
        for (int i = 0; i < tableCount; i++)
        {
            var header = image.Slice((int)tableOffset + (i * tableEntrySize), entrySize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != ProgramTypeLoad)
                continue;
            ulong offset, virtualAddress, physicalAddress, fileSize, memorySize;
            if (is64)
            {
                offset = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
                virtualAddress = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
                physicalAddress = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
                fileSize = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
                memorySize = BinaryPrimitives.ReadUInt64LittleEndian(header[40..]);
            }
            else
            {
                offset = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
                virtualAddress = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
                physicalAddress = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
                fileSize = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
                memorySize = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
            }
            if (fileSize > memorySize)
                throw new GuestImageException($"{kind} segment {i} has p_filesz 0x{fileSize:x} larger than p_memsz 0x{memorySize:x}");
            if (offset > imageLength || fileSize > imageLength - offset)
                throw new GuestImageException($"{kind} segment {i} file data (offset 0x{offset:x}, {fileSize} bytes) lies beyond the end of the {imageLength}-byte image");
            if (memorySize == 0)
                continue;
            segments.Add(new ElfLoadSegment(i, virtualAddress, physicalAddress, (int)offset, (int)fileSize, memorySize));
        }
        if (segments.Count == 0)
            throw new GuestImageException($"{kind} image has no loadable (PT_LOAD) segments");
        return new ElfExecutable(is64, entry, segments);
    }

    /// <summary>
    /// The entry point as a physical address. Kernels linked to run high give a virtual
    /// <c>e_entry</c>; like GRUB, translate it through the segment that contains it, because the
    /// kernel starts with paging off (Multiboot) or on our identity map (ELF64).
    /// </summary>
    public ulong PhysicalEntry()
    {
        foreach (var s in Segments)
        {
            if (Entry >= s.VirtualAddress && Entry - s.VirtualAddress < s.MemorySize)
                return s.PhysicalAddress + (Entry - s.VirtualAddress);
        }
        return Entry;
    }
}
