using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Worker;

/// <summary>
/// Everything a VM's guest used that this hypervisor does not implement (ports and MMIO addresses
/// nothing claims, MSRs and instructions the CPU lacks), each counted, and reported once per VM
/// with the guest address where it was first met. It travels with the VM in its snapshot, so a
/// migrated VM does not report the same thing again. A guest cannot make it grow without bound:
/// past <see cref="MaxEntries"/> distinct things, further ones are only counted in <see cref="Overflow"/>.
/// </summary>
internal sealed class UnimplementedLog : IUnimplementedSink
{
    public const int MaxEntries = 256;

    private readonly Lock _lock = new();
    private readonly Dictionary<(UnimplementedKind Kind, ulong What), Entry> _entries = [];
    private readonly Action<UnimplementedUse>? _firstUse;
    private long _overflow;

    /// <param name="firstUse">Told of each thing the first time this VM uses it, on the vCPU thread, outside the log's lock.</param>
    public UnimplementedLog(Action<UnimplementedUse>? firstUse) => _firstUse = firstUse;

    /// <summary>Uses of distinct things past <see cref="MaxEntries"/>, counted but not listed.</summary>
    public long Overflow
    {
        get { lock (_lock) return _overflow; }
    }

    public void Record(UnimplementedKind kind, ulong what, ulong address)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue((kind, what), out Entry? entry))
            {
                entry.Count++;
                return;
            }
            if (_entries.Count >= MaxEntries)
            {
                _overflow++;
                return;
            }
            _entries.Add((kind, what), new Entry(address) { Count = 1 });
        }
        _firstUse?.Invoke(new UnimplementedUse(kind, what, address, 1));
    }

    /// <summary>Counts another use if <paramref name="what"/> was seen before; a caller that must work for the address calls <see cref="Record"/> only when this is false.</summary>
    public bool TryCountAgain(UnimplementedKind kind, ulong what)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue((kind, what), out Entry? entry))
                return false;
            entry.Count++;
            return true;
        }
    }

    /// <summary>Every thing used so far, by kind and then by what.</summary>
    public IReadOnlyList<UnimplementedUse> List()
    {
        lock (_lock)
            return ListLocked();
    }

    public UnimplementedLogState SaveState()
    {
        lock (_lock)
            return new UnimplementedLogState(ListLocked(), _overflow);
    }

    /// <summary>Takes over a saved log; what it lists is not reported again.</summary>
    public void RestoreState(UnimplementedLogState state)
    {
        lock (_lock)
        {
            _entries.Clear();
            foreach (UnimplementedUse use in state.Uses)
                _entries[(use.Kind, use.What)] = new Entry(use.FirstAddress) { Count = use.Count };
            _overflow = state.Overflow;
        }
    }

    private List<UnimplementedUse> ListLocked() =>
        _entries
            .Select(e => new UnimplementedUse(e.Key.Kind, e.Key.What, e.Value.FirstAddress, e.Value.Count))
            .OrderBy(u => u.Kind).ThenBy(u => u.What)
            .ToList();

    private sealed class Entry(ulong firstAddress)
    {
        public ulong FirstAddress { get; } = firstAddress;

        public long Count { get; set; }
    }
}
