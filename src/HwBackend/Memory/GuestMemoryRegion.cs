namespace Actors.HwBackend.Memory;

public enum GuestMemoryRegionKind
{
    Ram,
    Mmio,
}

/// <summary>A guest-physical range: RAM backed by <see cref="GuestRam"/> at an offset, or MMIO that exits.</summary>
public sealed record GuestMemoryRegion(string Name, GuestMemoryRegionKind Kind, ulong Base, ulong Size, ulong RamOffset = 0)
{
    public ulong End => Base + Size;

    public bool Contains(ulong gpa) => gpa >= Base && gpa - Base < Size;

    public bool Overlaps(ulong start, ulong size) => start < End && Base < start + size;
}
