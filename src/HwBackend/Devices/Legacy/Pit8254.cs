using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// The 8254 programmable interval timer: three 16-bit down-counters at 1.193182 MHz, counters at
/// 0x40-0x42 and the control word at 0x43. Counters are not stepped: each one remembers the
/// input-clock tick at which its count started, and every read derives the count and output from
/// <see cref="IPlatformClock"/>, so an idle timer costs nothing. Channel 0 drives IRQ 0; the machine
/// asks <see cref="NextEventNanoseconds"/> when to wake and then calls <see cref="Update"/>.
/// Channel 1 (DRAM refresh) runs unobserved; channel 2's gate and output are wired to
/// <see cref="PortB"/>. Behaviour follows the Intel 8254 data sheet and QEMU's <c>hw/timer/i8254*.c</c>.
/// <para>
/// When IRQ 0 is an <see cref="IAcknowledgingInterruptLine"/> (on a PC: the 8259's INTA cycle and
/// the IOAPIC's EOI report back), channel 0's edges that fall due before the guest has taken the
/// previous one are kept in a <see cref="TickBacklog"/> and raised one per acknowledgement, as
/// KVM's PIT does in reinject mode, rather than merging in the controller's edge latch. Edges are
/// counted from the clock, so a late timer thread loses none either.
/// </para>
/// </summary>
public sealed class Pit8254 : IPortDevice
{
    public const ushort Counter0Port = 0x40;
    public const ushort ControlPort = 0x43;
    public const int PortCount = 4;
    public const long FrequencyHz = 1_193_182;

    private const long NanosecondsPerSecond = 1_000_000_000;

    private readonly Lock _lock = new();
    private readonly IPlatformClock _clock;
    private readonly IInterruptLine? _irq0;
    private readonly Channel[] _channels = [new(gate: true), new(gate: true), new(gate: false)];
    private readonly bool _reinjects;
    private bool _irq0Level;
    private long _lastIrq0EdgeTick = long.MinValue;
    private TickBacklog _backlog;

    /// <param name="clock">Virtual time the counters run on.</param>
    /// <param name="irq0">
    /// Where channel 0's output goes; null leaves it unconnected. An <see cref="IAcknowledgingInterruptLine"/>
    /// gets this timer as its listener, and missed edges are then delivered late instead of merged.
    /// </param>
    public Pit8254(IPlatformClock clock, IInterruptLine? irq0 = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _irq0 = irq0;
        if (irq0 is IAcknowledgingInterruptLine acknowledging)
        {
            acknowledging.SetAcknowledgeListener(new Irq0Listener(this));
            _reinjects = true;
        }
    }

    /// <summary>
    /// When channel 0's output next rises (the next IRQ 0 edge), in <see cref="IPlatformClock"/>
    /// nanoseconds; null when no edge is coming without further guest programming.
    /// </summary>
    public long? NextEventNanoseconds
    {
        get
        {
            lock (_lock)
            {
                long? tick = _channels[0].NextRisingEdge(NowTicks());
                return tick is long t ? TicksToNanoseconds(t) : null;
            }
        }
    }

    /// <summary>
    /// Brings IRQ 0 up to date with the clock. A rising edge of channel 0 since the last call is
    /// delivered as a pulse even when the output has already fallen again (mode 2's low phase is
    /// one input clock). Several missed periods go to the backlog when the line reports
    /// acknowledgements, and otherwise collapse into one interrupt, as the edge latch of an 8259
    /// input would.
    /// </summary>
    public void Update()
    {
        lock (_lock)
            UpdateIrq0(NowTicks());
    }

    /// <summary>Channel 0 edges owed to the guest (see <see cref="TickBacklog"/>); for tests and diagnostics.</summary>
    public int Irq0PendingTicks
    {
        get
        {
            lock (_lock)
                return _backlog.Pending;
        }
    }

    /// <summary>The gate input of <paramref name="channel"/> (channels 0 and 1 are tied high on a PC).</summary>
    public bool GetGate(int channel)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channel);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channel, 2);
        lock (_lock)
            return _channels[channel].Gate;
    }

    public void SetGate(int channel, bool level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channel);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channel, 2);
        lock (_lock)
        {
            long now = NowTicks();
            _channels[channel].SetGate(level, now);
            if (channel == 0)
                UpdateIrq0(now);
        }
    }

    /// <summary>The current output level of <paramref name="channel"/>.</summary>
    public bool GetOutput(int channel)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channel);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channel, 2);
        lock (_lock)
            return _channels[channel].Output(NowTicks());
    }

    public uint Read(ushort port, int size)
    {
        lock (_lock)
        {
            long now = NowTicks();
            uint value = 0;
            for (int i = 0; i < size; i++)
            {
                int offset = port - Counter0Port + i;
                // The control port is write-only; the 8254 leaves the bus undriven.
                uint b = offset is >= 0 and < 3 ? _channels[offset].ReadByte(now) : 0xFFu;
                value |= b << (8 * i);
            }
            return value;
        }
    }

    public void Write(ushort port, int size, uint value)
    {
        lock (_lock)
        {
            long now = NowTicks();
            for (int i = 0; i < size; i++)
            {
                int offset = port - Counter0Port + i;
                byte b = (byte)(value >> (8 * i));
                if (offset is >= 0 and < 3)
                {
                    // A new count is a new timer: nothing of the old one is owed.
                    if (_channels[offset].WriteByte(b, now) && offset == 0)
                        _backlog.Clear();
                }
                else if (offset == 3)
                {
                    WriteControl(b, now);
                }
            }
            UpdateIrq0(now);
        }
    }

    public Pit8254State SaveState()
    {
        lock (_lock)
        {
            long now = NowTicks();
            long? sinceEdge = _lastIrq0EdgeTick == long.MinValue ? null : Math.Max(0, now - _lastIrq0EdgeTick);
            return new Pit8254State(
                _channels[0].Save(now), _channels[1].Save(now), _channels[2].Save(now), _irq0Level, sinceEdge,
                _backlog.Pending, _backlog.AwaitingAcknowledge);
        }
    }

    /// <summary>
    /// Restores counters so they continue from where they were saved, measured from this clock's
    /// present. IRQ 0 is driven to the saved level; call <see cref="Update"/> afterwards as usual.
    /// </summary>
    public void RestoreState(Pit8254State state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(state.Channel0);
        ArgumentNullException.ThrowIfNull(state.Channel1);
        ArgumentNullException.ThrowIfNull(state.Channel2);
        lock (_lock)
        {
            long now = NowTicks();
            _channels[0].Restore(state.Channel0, now);
            _channels[1].Restore(state.Channel1, now);
            _channels[2].Restore(state.Channel2, now);
            _lastIrq0EdgeTick = state.TicksSinceLastIrq0Edge is long since ? now - Math.Max(0, since) : long.MinValue;
            _irq0Level = state.Irq0Level;
            _backlog.Restore(state.Irq0PendingTicks, state.Irq0AwaitingAcknowledge);
            _irq0?.SetLevel(_irq0Level);
        }
    }

    private static long TicksToNanoseconds(long ticks)
    {
        // Rounded up, so that at the returned time the tick has certainly happened.
        Int128 product = (Int128)ticks * NanosecondsPerSecond;
        Int128 ns = (product + FrequencyHz - 1) / FrequencyHz;
        return ns > long.MaxValue ? long.MaxValue : (long)ns;
    }

    /// <summary>Input clocks since the clock's origin; Int128 because ns × Hz overflows a long after ~90 days.</summary>
    private long NowTicks()
    {
        long ns = Math.Max(0, _clock.NowNanoseconds);
        return (long)((Int128)ns * FrequencyHz / NanosecondsPerSecond);
    }

    private void WriteControl(byte value, long now)
    {
        int select = value >> 6;
        if (select == 3)
        {
            // Read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 3:1 pick counters 2..0.
            for (int c = 0; c < 3; c++)
            {
                if ((value & (2 << c)) == 0)
                    continue;
                if ((value & 0x20) == 0)
                    _channels[c].LatchCount(now);
                if ((value & 0x10) == 0)
                    _channels[c].LatchStatus(now);
            }
            return;
        }
        if ((value & 0x30) == 0)
        {
            _channels[select].LatchCount(now);
        }
        else
        {
            _channels[select].Program(value);
            if (select == 0)
                _backlog.Clear();
        }
    }

    private void UpdateIrq0(long now)
    {
        if (_irq0 is null)
            return;
        var channel = _channels[0];
        bool output = channel.Output(now);
        long? edge = channel.LastRisingEdge(now);
        if (edge is long e && e > _lastIrq0EdgeTick)
        {
            long edges = channel.RisingEdgesAfter(_lastIrq0EdgeTick, e);
            _lastIrq0EdgeTick = e;
            if (!_reinjects || _backlog.Due(edges, TickBacklog.CapFor(TicksToNanoseconds(channel.Reload))))
                PulseIrq0();
        }
        // The line only goes high on a counted edge. Output rising for other reasons (a control
        // word selecting mode 2 or 3 sets OUT high at once) would otherwise give the guest an
        // interrupt for merely programming the timer, which QEMU never does and tests count on.
        if (!output && _irq0Level)
        {
            _irq0.SetLevel(false);
            _irq0Level = false;
        }
    }

    private void PulseIrq0()
    {
        if (_irq0Level)
            _irq0!.SetLevel(false);
        _irq0!.SetLevel(true);
        _irq0Level = true;
    }

    /// <summary>The guest took the last IRQ 0: count what fell due meanwhile, then raise the next owed edge.</summary>
    private void OnIrq0Acknowledged()
    {
        lock (_lock)
        {
            UpdateIrq0(NowTicks());
            if (_backlog.Acknowledged())
                PulseIrq0();
        }
    }

    /// <summary>The guest reopened IRQ 0: edges from while it was closed are not owed, and the last raised one may never be acknowledged.</summary>
    private void OnIrq0Unmasked()
    {
        lock (_lock)
        {
            _backlog.Clear();
            if (_channels[0].LastRisingEdge(NowTicks()) is long e && e > _lastIrq0EdgeTick)
                _lastIrq0EdgeTick = e;
        }
    }

    /// <summary>What the interrupt controllers tell channel 0 (a separate object keeps these calls off the PIT's public surface).</summary>
    private sealed class Irq0Listener(Pit8254 owner) : IInterruptAcknowledgeListener
    {
        public void Acknowledged() => owner.OnIrq0Acknowledged();

        public void Unmasked() => owner.OnIrq0Unmasked();
    }

    /// <summary>One counter. Not thread-safe: the timer's lock covers it.</summary>
    private sealed class Channel(bool gate)
    {
        private byte _mode;
        private byte _access;
        private bool _bcd;
        private int _reload = 0x10000;
        private bool _armed;
        private bool _triggered;
        private long _startTick; // tick at which the current count started (valid when not frozen)
        private long _frozenElapsed = -1; // elapsed ticks held while the gate stops the count, else -1
        private bool _readMsbNext;
        private bool _writeMsbNext;
        private byte _writeLatch;
        private ushort _latchedCount;
        private byte _latchState;
        private bool _statusLatched;
        private byte _latchedStatus;
        private bool _nullCount = true;

        public bool Gate { get; private set; } = gate;

        public int Reload => _reload;

        /// <summary>Mode 6 and 7 are don't-care-bit aliases of 2 and 3.</summary>
        private int EffectiveMode => _mode >= 6 ? _mode - 4 : _mode;

        public void Program(byte control)
        {
            _access = (byte)((control >> 4) & 3);
            _mode = (byte)((control >> 1) & 7);
            _bcd = (control & 1) != 0;
            _armed = false;
            _triggered = false;
            _frozenElapsed = -1;
            _readMsbNext = false;
            _writeMsbNext = false;
            _nullCount = true;
        }

        /// <summary>Writes one byte of a count; true when it completed a count, which (re)starts the counter.</summary>
        public bool WriteByte(byte value, long now)
        {
            switch (_access)
            {
                case 1:
                    Load(value, now);
                    return true;
                case 2:
                    Load(value << 8, now);
                    return true;
                case 3:
                    if (!_writeMsbNext)
                    {
                        _writeLatch = value;
                        _writeMsbNext = true;
                        // Mode 0: writing the first byte stops the count until the second arrives.
                        if (EffectiveMode == 0)
                            _armed = false;
                    }
                    else
                    {
                        _writeMsbNext = false;
                        Load(_writeLatch | (value << 8), now);
                        return true;
                    }
                    return false;
                default:
                    return false; // never programmed: the write has nowhere to go
            }
        }

        public byte ReadByte(long now)
        {
            if (_statusLatched)
            {
                _statusLatched = false;
                return _latchedStatus;
            }
            switch (_latchState)
            {
                case 1:
                    _latchState = 0;
                    return (byte)_latchedCount;
                case 2:
                    _latchState = 0;
                    return (byte)(_latchedCount >> 8);
                case 3:
                    _latchState = 2;
                    return (byte)_latchedCount;
            }
            ushort count = Count(now);
            switch (_access)
            {
                case 1:
                    return (byte)count;
                case 2:
                    return (byte)(count >> 8);
                default:
                    _readMsbNext = !_readMsbNext;
                    return _readMsbNext ? (byte)count : (byte)(count >> 8);
            }
        }

        public void LatchCount(long now)
        {
            // A second latch before the first is read is ignored (data sheet).
            if (_latchState != 0)
                return;
            _latchedCount = Count(now);
            _latchState = _access == 0 ? (byte)3 : _access;
        }

        public void LatchStatus(long now)
        {
            if (_statusLatched)
                return;
            _latchedStatus = (byte)((Output(now) ? 0x80 : 0) | (_nullCount ? 0x40 : 0) | (_access << 4) | (_mode << 1) | (_bcd ? 1 : 0));
            _statusLatched = true;
        }

        public void SetGate(bool level, long now)
        {
            if (level == Gate)
                return;
            Gate = level;
            int mode = EffectiveMode;
            if (!level)
            {
                // Modes 0, 2, 3 and 4 stop counting while the gate is low; 1 and 5 ignore a low gate.
                if (_armed && mode is 0 or 2 or 3 or 4 && _frozenElapsed < 0)
                    _frozenElapsed = Elapsed(now);
                return;
            }
            if (!_armed)
                return;
            switch (mode)
            {
                case 0:
                case 4:
                    // Resume where the count stopped.
                    if (_frozenElapsed >= 0)
                        _startTick = now - _frozenElapsed;
                    break;
                default:
                    // Modes 2 and 3 restart from the reload value; 1 and 5 are triggered.
                    _startTick = now;
                    _triggered = true;
                    break;
            }
            _frozenElapsed = -1;
        }

        public bool Output(long now)
        {
            int mode = EffectiveMode;
            if (!_armed)
                return mode != 0;
            long d = Elapsed(now);
            return mode switch
            {
                0 => d >= _reload,
                1 => !_triggered || d >= _reload,
                2 => !Gate || d % _reload != _reload - 1,
                3 => !Gate || d % _reload < (_reload + 1) >> 1,
                4 => d != _reload,
                _ => !_triggered || d != _reload,
            };
        }

        /// <summary>The tick of the latest rising edge of the output at or before now, if one happened since the count started.</summary>
        public long? LastRisingEdge(long now)
        {
            if (!_armed || _frozenElapsed >= 0)
                return null;
            long d = Elapsed(now);
            switch (EffectiveMode)
            {
                case 0:
                    return d >= _reload ? _startTick + _reload : null;
                case 1:
                    return _triggered && d >= _reload ? _startTick + _reload : null;
                case 2:
                case 3:
                    if (!Gate || d < _reload || (EffectiveMode == 2 && _reload < 2))
                        return null;
                    return _startTick + d / _reload * _reload;
                case 4:
                    return d > _reload ? _startTick + _reload + 1 : null;
                default:
                    return _triggered && d > _reload ? _startTick + _reload + 1 : null;
            }
        }

        /// <summary>
        /// How many rising edges happened after tick <paramref name="after"/> up to <paramref name="edge"/>,
        /// the latest one (from <see cref="LastRisingEdge"/>): whole periods in modes 2 and 3, one otherwise.
        /// </summary>
        public long RisingEdgesAfter(long after, long edge)
        {
            if (EffectiveMode is not (2 or 3))
                return 1;
            // Edges lie at _startTick + k × reload, k ≥ 1; an edge before the count (re)started is not on this grid.
            return Math.Max(1, (edge - Math.Max(after, _startTick)) / _reload);
        }

        /// <summary>The tick of the next rising edge of the output after now, or null if none will come by itself.</summary>
        public long? NextRisingEdge(long now)
        {
            if (!_armed || _frozenElapsed >= 0)
                return null;
            long d = Elapsed(now);
            switch (EffectiveMode)
            {
                case 0:
                    return d < _reload ? _startTick + _reload : null;
                case 1:
                    return _triggered && d < _reload ? _startTick + _reload : null;
                case 2:
                case 3:
                    // In mode 2 a count of 1 is illegal (the output would never be high and low).
                    if (!Gate || (EffectiveMode == 2 && _reload < 2))
                        return null;
                    return _startTick + (d / _reload + 1) * _reload;
                case 4:
                    return d <= _reload ? _startTick + _reload + 1 : null;
                default:
                    return _triggered && d <= _reload ? _startTick + _reload + 1 : null;
            }
        }

        public Pit8254ChannelState Save(long now) => new(
            _mode, _access, _bcd, _reload, _armed, _triggered, Gate,
            _frozenElapsed >= 0 ? _frozenElapsed : Math.Max(0, now - _startTick), _frozenElapsed >= 0,
            _readMsbNext, _writeMsbNext, _writeLatch, _latchedCount, _latchState, _statusLatched, _latchedStatus, _nullCount);

        public void Restore(Pit8254ChannelState s, long now)
        {
            _mode = (byte)(s.Mode & 7);
            _access = (byte)(s.AccessMode & 3);
            _bcd = s.Bcd;
            _reload = s.Reload is >= 1 and <= 0x10000 ? s.Reload : 0x10000;
            _armed = s.Armed;
            _triggered = s.Triggered;
            Gate = s.Gate;
            long elapsed = Math.Max(0, s.ElapsedTicks);
            _startTick = now - elapsed;
            _frozenElapsed = s.Frozen ? elapsed : -1;
            _readMsbNext = s.ReadMsbNext;
            _writeMsbNext = s.WriteMsbNext;
            _writeLatch = s.WriteLatch;
            _latchedCount = s.LatchedCount;
            _latchState = (byte)(s.LatchState & 3);
            _statusLatched = s.StatusLatched;
            _latchedStatus = s.LatchedStatus;
            _nullCount = s.NullCount;
        }

        private void Load(int raw, long now)
        {
            _reload = raw == 0 ? 0x10000 : raw;
            _armed = true;
            _nullCount = false;
            _startTick = now;
            _triggered = false;
            int mode = EffectiveMode;
            // With the gate low, modes 0, 2, 3 and 4 hold the loaded count until the gate rises.
            _frozenElapsed = !Gate && mode is 0 or 2 or 3 or 4 ? 0 : -1;
        }

        private long Elapsed(long now) => _frozenElapsed >= 0 ? _frozenElapsed : Math.Max(0, now - _startTick);

        /// <summary>The counting element as a read sees it. BCD counting is not modelled: counts are binary.</summary>
        private ushort Count(long now)
        {
            if (!_armed)
                return (ushort)_reload;
            long d = Elapsed(now);
            int mode = EffectiveMode;
            if ((mode is 1 or 5) && !_triggered)
                return (ushort)_reload;
            long value = mode switch
            {
                2 => _reload - (d % _reload),
                // Mode 3 decrements by two per clock, twice per period.
                3 => _reload - (2 * d % _reload),
                _ => _reload - d,
            };
            return (ushort)value;
        }
    }
}
