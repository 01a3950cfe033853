using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Boot;

/// <summary>
/// Decides where everything a loader writes goes before anything is written: checks the image's
/// ranges against the memory map and finds free RAM for the loader's own structures (boot
/// data, page tables) that collides with nothing else.
/// </summary>
internal sealed class GuestMemoryPlanner
{
    private readonly GuestPhysicalMap _memory;
    private readonly List<(ulong Start, ulong End)> _occupied = [];
    private readonly List<(ulong Start, ulong End)> _keepFree = [];

    public GuestMemoryPlanner(GuestPhysicalMap memory)
    {
        _memory = memory;
    }

    public ulong LowestOccupied => _occupied.Count == 0 ? 0 : _occupied.Min(r => r.Start);

    public ulong HighestOccupied => _occupied.Count == 0 ? 0 : _occupied.Max(r => r.End);

    /// <summary>Claims a range the image itself dictates; refuses it unless it is wholly RAM.</summary>
    public void ReserveImageRange(string what, ulong start, ulong size)
    {
        ulong ramSize = _memory.Ram.Size;
        if (size > ramSize)
            throw new GuestImageException($"{what} needs {size} bytes at 0x{start:x}, more than guest RAM ({ramSize} bytes); give the machine more memory");
        if (start + size < start)
            throw new GuestImageException($"{what} at 0x{start:x} ({size} bytes) wraps around the end of the address space");
        ulong end = start + size;
        foreach (var region in _memory.Regions)
        {
            if (region.Kind == GuestMemoryRegionKind.Mmio && region.Overlaps(start, size))
                throw new GuestImageException($"{what} [0x{start:x}, 0x{end:x}) overlaps the MMIO region '{region.Name}' [0x{region.Base:x}, 0x{region.End:x})");
        }
        if (!_memory.IsRam(start, size))
            throw new GuestImageException($"{what} [0x{start:x}, 0x{end:x}) lies outside guest RAM ({DescribeRam()}); give the machine more memory or link the image lower");
        _occupied.Add((start, end));
    }

    /// <summary>
    /// Keeps <see cref="Allocate"/> out of a range that is RAM but not the loader's to use (the
    /// legacy BIOS area, where firmware tables go). Unlike <see cref="ReserveImageRange"/> this
    /// does not count as occupied by the image.
    /// </summary>
    public void KeepFree(ulong start, ulong end) => _keepFree.Add((start, end));

    /// <summary>
    /// Finds the lowest aligned range of <paramref name="size"/> bytes at or above
    /// <paramref name="lowest"/> and below <paramref name="limit"/> that is RAM and free, and claims it.
    /// </summary>
    public ulong Allocate(string what, ulong size, ulong alignment, ulong lowest, ulong limit)
    {
        var candidates = new List<ulong> { lowest };
        foreach (var r in _occupied.Concat(_keepFree))
            candidates.Add(r.End);
        foreach (var region in _memory.Regions)
        {
            if (region.Kind == GuestMemoryRegionKind.Ram)
                candidates.Add(region.Base);
        }
        candidates.Sort();
        foreach (ulong candidate in candidates)
        {
            ulong start = AlignUp(Math.Max(candidate, lowest), alignment);
            if (start < candidate || start > limit || size > limit - start)
                continue;
            if (!_memory.IsRam(start, size) || OverlapsOccupied(start, start + size))
                continue;
            _occupied.Add((start, start + size));
            return start;
        }
        throw new GuestImageException($"no room for the {what} ({size} bytes) in free guest RAM between 0x{lowest:x} and 0x{limit:x}; the image occupies it");
    }

    private bool OverlapsOccupied(ulong start, ulong end)
    {
        foreach (var r in _occupied.Concat(_keepFree))
        {
            if (start < r.End && r.Start < end)
                return true;
        }
        return false;
    }

    private string DescribeRam()
    {
        var ram = _memory.Regions.Where(r => r.Kind == GuestMemoryRegionKind.Ram).Select(r => $"[0x{r.Base:x}, 0x{r.End:x})").ToList();
        return ram.Count == 0 ? "there is none" : "RAM is " + string.Join(", ", ram);
    }

    private static ulong AlignUp(ulong value, ulong alignment)
    {
        ulong aligned = (value + alignment - 1) & ~(alignment - 1);
        return aligned < value ? ulong.MaxValue : aligned;
    }
}
