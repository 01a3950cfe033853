using System.Buffers.Binary;
using System.Text;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Boot;

/// <summary>
/// The loader's data in low guest RAM: a GDT whose descriptors match the segment state we hand
/// the vCPU, the Multiboot information structure with its memory map, command line and boot
/// loader name, and a small stack. Built in a host buffer and written to the guest in one go.
/// </summary>
internal sealed class BootBlock
{
    public const int GdtOffset = 0x00;
    public const int GdtLimit = (GdtEntries * 8) - 1;
    public const ushort CodeSelector = 0x10;
    public const ushort DataSelector = 0x18;
    public const int StackSize = 4096;

    private const int GdtEntries = 4;
    private const int InfoOffset = 0x40;
    private const int InfoSize = 0x80;
    private const int ModulesOffset = InfoOffset + InfoSize;
    private const int LoaderNameOffset = ModulesOffset + 0x10;
    private const int MemoryMapOffset = LoaderNameOffset + 0x10;
    private const int MemoryMapEntrySize = 24;
    private const uint MemoryTypeRam = 1;
    private const uint MemoryTypeReserved = 2;

    // Multiboot info flags (specification section 3.3).
    private const uint InfoHasMemory = 1u << 0;
    private const uint InfoHasCommandLine = 1u << 2;
    private const uint InfoHasModules = 1u << 3;
    private const uint InfoHasMemoryMap = 1u << 6;
    private const uint InfoHasLoaderName = 1u << 9;

    // Access bytes have the accessed bit set already, so the descriptors equal the cached
    // segment state (type 0xB / 0x3) and a CPU reloading a selector never needs to write the GDT.
    private const ulong FlatCode32Descriptor = 0x00CF_9B00_0000_FFFF;
    private const ulong FlatData32Descriptor = 0x00CF_9300_0000_FFFF;
    private const ulong Code64Descriptor = 0x00AF_9B00_0000_FFFF;

    private readonly List<(ulong Base, ulong Length, uint Type)> _memoryMap;
    private readonly byte[] _commandLine;
    private readonly byte[] _loaderName;

    public BootBlock(GuestPhysicalMap memory, string? commandLine, string loaderName)
    {
        _memoryMap = BuildMemoryMap(memory);
        _commandLine = Encoding.UTF8.GetBytes(commandLine ?? string.Empty);
        if (_commandLine.AsSpan().Contains((byte)0))
            throw new GuestImageException("the guest command line contains a NUL character");
        _loaderName = Encoding.ASCII.GetBytes(loaderName);
        // mem_lower agrees with the memory map: the EBDA and everything up to 1 MiB are not free.
        MemoryLowerKiB = (uint)(Math.Min(ContiguousRamFrom(memory, 0), LegacyPcMemory.ConventionalMemoryEnd) / 1024);
        MemoryUpperKiB = (uint)Math.Min(ContiguousRamFrom(memory, LegacyPcMemory.UpperMemoryStart) / 1024, uint.MaxValue);
        Size = AlignUp(CommandLineOffset + _commandLine.Length + 1, 16) + StackSize;
    }

    /// <summary>Bytes the block needs in guest RAM.</summary>
    public int Size { get; }

    public uint MemoryLowerKiB { get; }

    public uint MemoryUpperKiB { get; }

    public IReadOnlyList<(ulong Base, ulong Length, uint Type)> MemoryMap => _memoryMap;

    private int CommandLineOffset => MemoryMapOffset + (_memoryMap.Count * MemoryMapEntrySize);

    public static ulong InfoAddress(ulong blockBase) => blockBase + InfoOffset;

    public static ulong StackTop(ulong blockBase, int blockSize) => blockBase + (ulong)blockSize;

    /// <summary>Lays the block out for guest-physical address <paramref name="blockBase"/>.</summary>
    public byte[] Build(ulong blockBase, bool longMode)
    {
        var block = new byte[Size];
        var span = block.AsSpan();

        BinaryPrimitives.WriteUInt64LittleEndian(span[(GdtOffset + CodeSelector)..], longMode ? Code64Descriptor : FlatCode32Descriptor);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(GdtOffset + DataSelector)..], FlatData32Descriptor);

        var info = span.Slice(InfoOffset, InfoSize);
        uint flags = InfoHasMemory | InfoHasCommandLine | InfoHasModules | InfoHasMemoryMap | InfoHasLoaderName;
        BinaryPrimitives.WriteUInt32LittleEndian(info[0..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(info[4..], MemoryLowerKiB);
        BinaryPrimitives.WriteUInt32LittleEndian(info[8..], MemoryUpperKiB);
        BinaryPrimitives.WriteUInt32LittleEndian(info[16..], (uint)(blockBase + (ulong)CommandLineOffset));
        // No modules, but the fields are valid: some kernels read mods_addr without checking the count.
        BinaryPrimitives.WriteUInt32LittleEndian(info[20..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(info[24..], (uint)(blockBase + ModulesOffset));
        BinaryPrimitives.WriteUInt32LittleEndian(info[44..], (uint)(_memoryMap.Count * MemoryMapEntrySize));
        BinaryPrimitives.WriteUInt32LittleEndian(info[48..], (uint)(blockBase + MemoryMapOffset));
        BinaryPrimitives.WriteUInt32LittleEndian(info[64..], (uint)(blockBase + LoaderNameOffset));

        _loaderName.CopyTo(span[LoaderNameOffset..]);

        for (int i = 0; i < _memoryMap.Count; i++)
        {
            var entry = span.Slice(MemoryMapOffset + (i * MemoryMapEntrySize), MemoryMapEntrySize);
            // The size field counts the entry without itself (the spec's odd convention).
            BinaryPrimitives.WriteUInt32LittleEndian(entry, MemoryMapEntrySize - 4);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[4..], _memoryMap[i].Base);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[12..], _memoryMap[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[20..], _memoryMap[i].Type);
        }

        _commandLine.CopyTo(span[CommandLineOffset..]);
        return block;
    }

    /// <summary>
    /// RAM regions, merged where they touch, plus the MMIO windows as reserved, so a kernel that
    /// hands out memory from the map never hands out an APIC page. RAM between the EBDA and 1 MiB
    /// is reported as reserved, as on a PC: the firmware tables live there, and a guest that took
    /// it for free memory would overwrite them.
    /// </summary>
    private static List<(ulong Base, ulong Length, uint Type)> BuildMemoryMap(GuestPhysicalMap memory)
    {
        var map = new List<(ulong Base, ulong Length, uint Type)>();
        foreach (var region in memory.Regions.OrderBy(r => r.Base))
        {
            if (region.Kind != GuestMemoryRegionKind.Ram)
            {
                Append(map, region.Base, region.End, MemoryTypeReserved);
                continue;
            }
            ulong legacyStart = Math.Clamp(LegacyPcMemory.ConventionalMemoryEnd, region.Base, region.End);
            ulong legacyEnd = Math.Clamp(LegacyPcMemory.UpperMemoryStart, region.Base, region.End);
            Append(map, region.Base, legacyStart, MemoryTypeRam);
            Append(map, legacyStart, legacyEnd, MemoryTypeReserved);
            Append(map, legacyEnd, region.End, MemoryTypeRam);
        }
        return map;
    }

    private static void Append(List<(ulong Base, ulong Length, uint Type)> map, ulong start, ulong end, uint type)
    {
        if (start == end)
            return;
        if (map.Count > 0 && map[^1].Type == type && map[^1].Base + map[^1].Length == start)
            map[^1] = (map[^1].Base, map[^1].Length + (end - start), type);
        else
            map.Add((start, end - start, type));
    }

    private static ulong ContiguousRamFrom(GuestPhysicalMap memory, ulong start)
    {
        ulong address = start;
        while (memory.FindRegion(address) is { Kind: GuestMemoryRegionKind.Ram } region)
            address = region.End;
        return address - start;
    }

    private static int AlignUp(int value, int alignment) => (value + alignment - 1) & ~(alignment - 1);
}
