namespace Actors.HwBackend.Boot;

/// <summary>A piece of the image bound for guest RAM: file bytes, then zeros up to <see cref="MemorySize"/>.</summary>
internal readonly record struct ImageSegment(string Description, ulong Address, int FileOffset, int FileSize, ulong MemorySize)
{
    public ulong End => Address + MemorySize;

    public bool Contains(ulong address) => address >= Address && address - Address < MemorySize;
}
