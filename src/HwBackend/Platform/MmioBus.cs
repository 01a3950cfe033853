namespace Actors.HwBackend.Platform;

/// <summary>
/// The MMIO windows of one machine and the devices behind them: the same shape as
/// <see cref="IoPortBus"/>. A PC has a handful of windows, so the lookup scans a small array,
/// which beats any tree at that size and never allocates. An address no device claims reads as
/// all-ones and ignores writes, like a bus with nothing decoding it. Devices are registered while
/// the machine is being built, before any vCPU runs.
/// </summary>
public sealed class MmioBus
{
    private RegisteredWindow[] _windows = [];
    private long _unhandledReads;
    private long _unhandledWrites;

    /// <summary>Reads of addresses no device claims.</summary>
    public long UnhandledReads => Interlocked.Read(ref _unhandledReads);

    /// <summary>Writes to addresses no device claims.</summary>
    public long UnhandledWrites => Interlocked.Read(ref _unhandledWrites);

    /// <summary>Whether a device's window holds <paramref name="address"/>.</summary>
    public bool Claims(ulong address) => Find(address) is not null;

    /// <summary>Attaches <paramref name="device"/> to [<paramref name="baseAddress"/>, <paramref name="baseAddress"/> + <paramref name="size"/>).</summary>
    public void Register(ulong baseAddress, ulong size, IMmioDevice device, string name)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (size == 0 || baseAddress + size < baseAddress)
            throw new ArgumentOutOfRangeException(nameof(size), $"MMIO window 0x{baseAddress:x}+0x{size:x} for '{name}' must be non-empty and not wrap");
        foreach (RegisteredWindow w in _windows)
        {
            if (baseAddress < w.Base + w.Size && w.Base < baseAddress + size)
                throw new ArgumentException($"MMIO window '{name}' [0x{baseAddress:x}, 0x{baseAddress + size:x}) overlaps '{w.Name}'");
        }
        _windows = [.. _windows, new RegisteredWindow(name, baseAddress, size, device)];
    }

    /// <summary>Dispatches a read; an access goes to the device whose window holds its first byte.</summary>
    public ulong Read(ulong address, int size)
    {
        ulong mask = MaskFor(size);
        if (Find(address) is not { } window)
        {
            Interlocked.Increment(ref _unhandledReads);
            return mask;
        }
        Interlocked.Increment(ref window.Reads);
        return window.Device.Read(address - window.Base, size) & mask;
    }

    /// <summary>Dispatches a write; <paramref name="value"/> is cut to <paramref name="size"/> bytes.</summary>
    public void Write(ulong address, int size, ulong value)
    {
        ulong mask = MaskFor(size);
        if (Find(address) is not { } window)
        {
            Interlocked.Increment(ref _unhandledWrites);
            return;
        }
        Interlocked.Increment(ref window.Writes);
        window.Device.Write(address - window.Base, size, value & mask);
    }

    /// <summary>A snapshot of the per-window access counts, in registration order.</summary>
    public IReadOnlyList<MmioWindowStatistics> GetStatistics() =>
        _windows.Select(w => new MmioWindowStatistics(w.Name, w.Base, w.Size, Interlocked.Read(ref w.Reads), Interlocked.Read(ref w.Writes))).ToList();

    private RegisteredWindow? Find(ulong address)
    {
        foreach (RegisteredWindow w in _windows)
        {
            if (address - w.Base < w.Size)
                return w;
        }
        return null;
    }

    private static ulong MaskFor(int size) => size switch
    {
        1 => 0xFF,
        2 => 0xFFFF,
        4 => 0xFFFF_FFFF,
        8 => ulong.MaxValue,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "MMIO access size must be 1, 2, 4 or 8 bytes"),
    };

    private sealed class RegisteredWindow(string name, ulong baseAddress, ulong size, IMmioDevice device)
    {
        public long Reads;
        public long Writes;

        public string Name { get; } = name;

        public ulong Base { get; } = baseAddress;

        public ulong Size { get; } = size;

        public IMmioDevice Device { get; } = device;
    }
}
