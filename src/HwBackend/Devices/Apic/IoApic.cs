using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Apic;

/// <summary>
/// An 82093AA-style I/O APIC with 24 input pins, as the 82093AA data sheet describes it, plus the
/// version-0x20 EOI register at 0x40 that QEMU's and KVM's IOAPICs have. Registers are reached
/// indirectly through IOREGSEL (0x00) and IOWIN (0x10) with 32-bit accesses. Each pin's
/// redirection entry turns it into an <see cref="ApicMessage"/> on the <see cref="ApicBus"/>:
/// edge-triggered pins on each rising edge while unmasked, level-triggered pins while asserted,
/// once per remote-IRR cycle (set on delivery, cleared by the local APIC's EOI broadcast).
/// Messages are sent after the lock is released, so a local APIC's EOI can come straight back in.
/// </summary>
public sealed class IoApic : IMmioDevice
{
    public const ulong DefaultBase = 0xFEC0_0000;
    public const int PinCount = 24;

    public const uint RegisterSelectOffset = 0x00;
    public const uint WindowOffset = 0x10;
    public const uint EoiOffset = 0x40;

    public const byte IdRegister = 0x00;
    public const byte VersionRegister = 0x01;
    public const byte ArbitrationRegister = 0x02;
    public const byte RedirectionTableBase = 0x10;

    /// <summary>Version 0x20 (has the EOI register), maximum redirection entry 23.</summary>
    public const uint VersionValue = 0x0017_0020;

    public const ulong EntryMasked = 1UL << 16;
    public const ulong EntryLevelTriggered = 1UL << 15;
    public const ulong EntryRemoteIrr = 1UL << 14;
    public const ulong EntryActiveLow = 1UL << 13;

    // Vector, delivery mode, destination mode, polarity, trigger, mask; delivery status (12) and
    // remote IRR (14) are read-only.
    private const uint LowWritable = 0x0001_AFFF;
    private const uint HighWritable = 0xFF00_0000;

    private readonly Lock _lock = new();
    private readonly ApicBus _bus;
    private readonly Line[] _lines;
    private readonly IInterruptAcknowledgeListener?[] _listeners = new IInterruptAcknowledgeListener?[PinCount];
    private readonly ulong[] _redirection = new ulong[PinCount];

    // Vectors of edge-triggered pins with a listener, as a 256-bit set: local APICs broadcast the
    // EOI of these too (they only do for level-triggered vectors otherwise), the way KVM's IOAPIC
    // asks for EOI exits of edge pins that have an ack notifier. Read without the lock.
    private readonly ulong[] _edgeEoiVectors = new ulong[4];
    private uint _id;
    private byte _registerSelect;
    private uint _pinLevels;

    /// <param name="id">The IOAPIC ID (0-15) reported in the ID register.</param>
    /// <param name="bus">Where redirected interrupts go; attaching for EOI broadcasts is the caller's job.</param>
    public IoApic(uint id, ApicBus bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        _bus = bus;
        _id = (id & 0xF) << 24;
        _redirection.AsSpan().Fill(EntryMasked);
        // Built once so wiring a device, and every later pulse on its line, allocates nothing.
        _lines = new Line[PinCount];
        for (int i = 0; i < PinCount; i++)
            _lines[i] = new Line(this, i);
    }

    /// <summary>An <see cref="IInterruptLine"/> driving <paramref name="pin"/> (0-23), for wiring devices.</summary>
    public IInterruptLine GetLine(int pin)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pin);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pin, PinCount);
        return _lines[pin];
    }

    /// <summary>
    /// Registers the device behind <paramref name="pin"/> for the EOIs of its vector and its
    /// unmasks (null removes it); <see cref="GetLine"/>'s lines do this for the device that drives them.
    /// </summary>
    public void SetAcknowledgeListener(int pin, IInterruptAcknowledgeListener? listener)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pin);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pin, PinCount);
        lock (_lock)
        {
            _listeners[pin] = listener;
            UpdateEdgeEoiVectorsLocked();
        }
    }

    /// <summary>
    /// Whether a local APIC should broadcast the EOI of <paramref name="vector"/> although it was
    /// edge-triggered: a device behind an edge pin with that vector waits for it. Lock-free.
    /// </summary>
    public bool WantsEdgeEoi(byte vector) => (Volatile.Read(ref _edgeEoiVectors[vector >> 6]) & (1UL << (vector & 63))) != 0;

    /// <summary>
    /// Sets the electrical level of <paramref name="pin"/>; an active-low entry sees it inverted.
    /// Pins outside 0-23 do not exist and are ignored.
    /// </summary>
    public void SetIrq(int pin, bool level)
    {
        if ((uint)pin >= PinCount)
            return;
        ApicMessage message = default;
        bool send = false;
        lock (_lock)
        {
            uint bit = 1u << pin;
            bool oldLevel = (_pinLevels & bit) != 0;
            _pinLevels = level ? _pinLevels | bit : _pinLevels & ~bit;
            ulong entry = _redirection[pin];
            if ((entry & EntryLevelTriggered) != 0)
            {
                send = TryRaiseLevelLocked(pin, out message);
            }
            else
            {
                bool activeLow = (entry & EntryActiveLow) != 0;
                bool rising = level != activeLow && oldLevel == activeLow;
                if (rising && (entry & EntryMasked) == 0)
                {
                    message = MessageFor(entry);
                    send = true;
                }
            }
        }
        if (send)
            _bus.Deliver(in message);
    }

    /// <summary>
    /// A local APIC's EOI broadcast for <paramref name="vector"/>: clears remote IRR of every entry
    /// with that vector, and sends again for any such level-triggered pin still asserted. The
    /// listener of a pin with that vector hears that its interrupt was accepted.
    /// </summary>
    public void OnEoi(byte vector)
    {
        Span<ApicMessage> messages = stackalloc ApicMessage[PinCount];
        int count = 0;
        uint acknowledged = 0;
        lock (_lock)
        {
            for (int pin = 0; pin < PinCount; pin++)
            {
                ulong entry = _redirection[pin];
                if ((byte)entry != vector)
                    continue;
                bool level = (entry & EntryLevelTriggered) != 0;
                if (_listeners[pin] is not null && (!level || (entry & EntryRemoteIrr) != 0))
                    acknowledged |= 1u << pin;
                if ((entry & EntryRemoteIrr) == 0)
                    continue;
                _redirection[pin] = entry & ~EntryRemoteIrr;
                if (TryRaiseLevelLocked(pin, out ApicMessage message))
                    messages[count++] = message;
            }
        }
        for (int i = 0; i < count; i++)
            _bus.Deliver(in messages[i]);
        for (int pin = 0; acknowledged != 0; pin++, acknowledged >>= 1)
        {
            if ((acknowledged & 1) != 0)
                Volatile.Read(ref _listeners[pin])?.Acknowledged();
        }
    }

    /// <summary>A read in the IOAPIC's MMIO window; anything but a 32-bit read of IOREGSEL or IOWIN reads 0.</summary>
    public ulong ReadMmio(uint offset, int size)
    {
        if (size != 4)
            return 0;
        lock (_lock)
        {
            return offset switch
            {
                RegisterSelectOffset => _registerSelect,
                WindowOffset => ReadRegisterLocked(_registerSelect),
                _ => 0,
            };
        }
    }

    ulong IMmioDevice.Read(ulong offset, int size) => ReadMmio((uint)offset, size);

    void IMmioDevice.Write(ulong offset, int size, ulong value) => WriteMmio((uint)offset, size, value);

    /// <summary>A write in the IOAPIC's MMIO window; anything but a 32-bit write of IOREGSEL, IOWIN or EOI is ignored.</summary>
    public void WriteMmio(uint offset, int size, ulong value)
    {
        if (size != 4)
            return;
        if (offset == EoiOffset)
        {
            OnEoi((byte)value);
            return;
        }
        ApicMessage message = default;
        bool send = false;
        IInterruptAcknowledgeListener? unmasked = null;
        lock (_lock)
        {
            if (offset == RegisterSelectOffset)
                _registerSelect = (byte)value;
            else if (offset == WindowOffset)
                send = WriteRegisterLocked(_registerSelect, (uint)value, out message, out unmasked);
        }
        unmasked?.Unmasked();
        if (send)
            _bus.Deliver(in message);
    }

    public IoApicState SaveState()
    {
        lock (_lock)
        {
            return new IoApicState
            {
                Id = _id,
                RegisterSelect = _registerSelect,
                Redirection = (ulong[])_redirection.Clone(),
                PinLevels = _pinLevels,
            };
        }
    }

    /// <summary>Why <paramref name="state"/> cannot be restored, or null: lets a machine check every part before it changes any.</summary>
    public static string? FindRestoreProblem(IoApicState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Redirection is not { Length: PinCount } ? $"the redirection table must have {PinCount} entries" : null;
    }

    public void RestoreState(IoApicState state)
    {
        if (FindRestoreProblem(state) is string problem)
            throw new ArgumentException(problem, nameof(state));
        lock (_lock)
        {
            _id = state.Id & 0x0F00_0000;
            _registerSelect = state.RegisterSelect;
            state.Redirection.CopyTo(_redirection, 0);
            _pinLevels = state.PinLevels & ((1u << PinCount) - 1);
            UpdateEdgeEoiVectorsLocked();
        }
    }

    private uint ReadRegisterLocked(byte register)
    {
        switch (register)
        {
            case IdRegister:
                return _id;
            case VersionRegister:
                return VersionValue;
            case ArbitrationRegister:
                // The arbitration ID is loaded from the APIC ID (82093AA 3.2.3).
                return _id;
            case >= RedirectionTableBase and < RedirectionTableBase + (2 * PinCount):
                ulong entry = _redirection[(register - RedirectionTableBase) >> 1];
                return (register & 1) == 0 ? (uint)entry : (uint)(entry >> 32);
            default:
                return 0;
        }
    }

    private bool WriteRegisterLocked(byte register, uint value, out ApicMessage message, out IInterruptAcknowledgeListener? unmasked)
    {
        message = default;
        unmasked = null;
        if (register == IdRegister)
        {
            _id = value & 0x0F00_0000;
            return false;
        }
        if (register is < RedirectionTableBase or >= RedirectionTableBase + (2 * PinCount))
            return false; // VER and ARB are read-only; the rest is reserved.
        int pin = (register - RedirectionTableBase) >> 1;
        ulong entry = _redirection[pin];
        if ((register & 1) != 0)
        {
            _redirection[pin] = (entry & 0xFFFF_FFFFUL) | ((ulong)(value & HighWritable) << 32);
            return false;
        }
        ulong old = entry;
        entry = (entry & ~(ulong)LowWritable & ~0xFFFF_FFFFUL) | (value & LowWritable) | (entry & EntryRemoteIrr);
        // Remote IRR only means something for level-triggered entries.
        if ((entry & EntryLevelTriggered) == 0)
            entry &= ~EntryRemoteIrr;
        _redirection[pin] = entry;
        if (_listeners[pin] is { } listener)
        {
            if ((old & EntryMasked) != 0 && (entry & EntryMasked) == 0)
                unmasked = listener;
            UpdateEdgeEoiVectorsLocked();
        }
        // Unmasking (or reprogramming) a level-triggered pin that is asserted delivers it now.
        return TryRaiseLevelLocked(pin, out message);
    }

    private void UpdateEdgeEoiVectorsLocked()
    {
        Span<ulong> vectors = stackalloc ulong[4];
        for (int pin = 0; pin < PinCount; pin++)
        {
            ulong entry = _redirection[pin];
            if (_listeners[pin] is not null && (entry & EntryLevelTriggered) == 0)
                vectors[(byte)entry >> 6] |= 1UL << ((byte)entry & 63);
        }
        for (int i = 0; i < vectors.Length; i++)
            Volatile.Write(ref _edgeEoiVectors[i], vectors[i]);
    }

    /// <summary>A level-triggered pin that is asserted, unmasked and not awaiting EOI sends, and sets remote IRR.</summary>
    private bool TryRaiseLevelLocked(int pin, out ApicMessage message)
    {
        message = default;
        ulong entry = _redirection[pin];
        if ((entry & (EntryMasked | EntryRemoteIrr)) != 0 || (entry & EntryLevelTriggered) == 0)
            return false;
        bool level = (_pinLevels & (1u << pin)) != 0;
        if (level == ((entry & EntryActiveLow) != 0))
            return false;
        _redirection[pin] = entry | EntryRemoteIrr;
        message = MessageFor(entry);
        return true;
    }

    private static ApicMessage MessageFor(ulong entry) => new(
        (ApicDeliveryMode)((entry >> 8) & 7),
        (byte)entry,
        (uint)(entry >> 56),
        LogicalDestination: (entry & (1UL << 11)) != 0,
        ApicShorthand.None,
        LevelTriggered: (entry & EntryLevelTriggered) != 0,
        Assert: true,
        SourceApicId: uint.MaxValue);

    private sealed class Line(IoApic owner, int pin) : IAcknowledgingInterruptLine
    {
        public void SetLevel(bool asserted) => owner.SetIrq(pin, asserted);

        public void SetAcknowledgeListener(IInterruptAcknowledgeListener? listener) => owner.SetAcknowledgeListener(pin, listener);
    }
}
