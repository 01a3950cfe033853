namespace Actors.HwBackend.Platform;

/// <summary>
/// The x86 I/O port space of one machine. Port-to-device lookup is one table index, so a
/// dispatch costs the same for every port and never allocates. Ports with no device behave like
/// an ISA bus with nothing decoding them: reads float to all-ones, writes vanish. Devices are
/// registered while the machine is being built, before any vCPU runs.
/// </summary>
public sealed class IoPortBus
{
    private const int PortSpace = 0x10000;

    // 0 = no device; otherwise index + 1 into _ranges. A table of 64 Ki ushorts (128 KiB) buys
    // constant-time dispatch for a space every PC guest probes sparsely and unpredictably.
    private readonly ushort[] _rangeByPort = new ushort[PortSpace];
    private readonly List<RegisteredRange> _ranges = [];
    private long _unhandledReads;
    private long _unhandledWrites;

    /// <summary>Reads of ports no device claims.</summary>
    public long UnhandledReads => Interlocked.Read(ref _unhandledReads);

    /// <summary>Writes to ports no device claims.</summary>
    public long UnhandledWrites => Interlocked.Read(ref _unhandledWrites);

    /// <summary>Whether a device decodes <paramref name="port"/>.</summary>
    public bool Claims(ushort port) => _rangeByPort[port] != 0;

    /// <summary>Attaches <paramref name="device"/> to ports [<paramref name="basePort"/>, <paramref name="basePort"/> + <paramref name="count"/>).</summary>
    public void Register(ushort basePort, int count, IPortDevice device, string name)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (count <= 0 || basePort + count > PortSpace)
            throw new ArgumentOutOfRangeException(nameof(count), $"port range 0x{basePort:x}+{count} for '{name}' must be non-empty and end by 0x{PortSpace:x}");
        if (_ranges.Count >= ushort.MaxValue)
            throw new InvalidOperationException("too many port ranges");
        for (int p = basePort; p < basePort + count; p++)
        {
            if (_rangeByPort[p] != 0)
                throw new ArgumentException($"port range '{name}' [0x{basePort:x}, 0x{basePort + count:x}) overlaps '{_ranges[_rangeByPort[p] - 1].Name}' at port 0x{p:x}");
        }
        _ranges.Add(new RegisteredRange(name, basePort, count, device));
        ushort index = (ushort)_ranges.Count;
        for (int p = basePort; p < basePort + count; p++)
            _rangeByPort[p] = index;
    }

    /// <summary>
    /// Dispatches an IN. An access goes to the device owning its first port; a device that
    /// cares about wide accesses spilling past its range handles that itself.
    /// </summary>
    public uint Read(ushort port, int size)
    {
        uint mask = MaskFor(size);
        int index = _rangeByPort[port];
        if (index == 0)
        {
            Interlocked.Increment(ref _unhandledReads);
            return mask;
        }
        var range = _ranges[index - 1];
        Interlocked.Increment(ref range.Reads);
        return range.Device.Read(port, size) & mask;
    }

    /// <summary>Dispatches an OUT; <paramref name="value"/> is cut to <paramref name="size"/> bytes.</summary>
    public void Write(ushort port, int size, uint value)
    {
        uint mask = MaskFor(size);
        int index = _rangeByPort[port];
        if (index == 0)
        {
            Interlocked.Increment(ref _unhandledWrites);
            return;
        }
        var range = _ranges[index - 1];
        Interlocked.Increment(ref range.Writes);
        range.Device.Write(port, size, value & mask);
    }

    /// <summary>A snapshot of the per-range access counts, in registration order.</summary>
    public IReadOnlyList<PortRangeStatistics> GetStatistics() =>
        _ranges.Select(r => new PortRangeStatistics(r.Name, r.BasePort, r.Count, Interlocked.Read(ref r.Reads), Interlocked.Read(ref r.Writes))).ToList();

    private static uint MaskFor(int size) => size switch
    {
        1 => 0xFF,
        2 => 0xFFFF,
        4 => 0xFFFF_FFFF,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "port access size must be 1, 2 or 4 bytes"),
    };

    private sealed class RegisteredRange(string name, ushort basePort, int count, IPortDevice device)
    {
        public long Reads;
        public long Writes;

        public string Name { get; } = name;

        public ushort BasePort { get; } = basePort;

        public int Count { get; } = count;

        public IPortDevice Device { get; } = device;
    }
}
