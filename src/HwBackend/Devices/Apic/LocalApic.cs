using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Apic;

/// <summary>
/// A local APIC in xAPIC and x2APIC mode, as the Intel SDM vol. 3 describes it (version 0x14,
/// six LVT entries, TSC-deadline timer, no CMCI, no directed EOI); QEMU's and KVM's APICs are what
/// guests have been tested against where the SDM leaves room.
/// <para>
/// Every register lives under one lock. Anything that reaches another object (another APIC
/// through the <see cref="ApicBus"/>, the IOAPIC through an EOI broadcast, the 8259, the
/// <see cref="ILocalApicSink"/>) is decided under the lock and done after releasing it, so two
/// vCPUs sending IPIs to each other never hold two APIC locks at once. Counters are not stepped:
/// the timer's current count is derived from <see cref="IPlatformClock"/> on every read, and the
/// owner calls <see cref="UpdateTimer"/> at <see cref="NextTimerEventNanoseconds"/>.
/// </para>
/// <para>
/// Periodic ticks that end while the previous one awaits its EOI are kept in a
/// <see cref="TickBacklog"/> and raised one per EOI of the timer vector, so a guest whose vCPU or
/// timer thread was descheduled gets them late instead of losing them. One-shot and TSC-deadline
/// expiries are single events and fire as they come.
/// </para>
/// Guest writes never throw: odd offsets, sizes, vectors and modes are ignored, recorded in ESR or
/// answered with #GP (a false return) exactly where the SDM says.
/// </summary>
public sealed class LocalApic : ILocalInterruptController
{
    public const ulong DefaultBase = 0xFEE0_0000;

    /// <summary>The timer's input clock before the divider: a 1 GHz bus clock, so one count is one nanosecond times the divisor.</summary>
    public const long TimerFrequencyHz = 1_000_000_000;

    /// <summary>VER: version 0x14 (integrated APIC), max LVT entry 5 (six LVTs, no CMCI), no EOI-broadcast suppression.</summary>
    public const uint VersionValue = 0x0005_0014;

    public const uint IdOffset = 0x20;
    public const uint VersionOffset = 0x30;
    public const uint TprOffset = 0x80;
    public const uint AprOffset = 0x90;
    public const uint PprOffset = 0xA0;
    public const uint EoiOffset = 0xB0;
    public const uint RrdOffset = 0xC0;
    public const uint LdrOffset = 0xD0;
    public const uint DfrOffset = 0xE0;
    public const uint SvrOffset = 0xF0;
    public const uint IsrOffset = 0x100;
    public const uint TmrOffset = 0x180;
    public const uint IrrOffset = 0x200;
    public const uint EsrOffset = 0x280;
    public const uint LvtCmciOffset = 0x2F0;
    public const uint IcrLowOffset = 0x300;
    public const uint IcrHighOffset = 0x310;
    public const uint LvtTimerOffset = 0x320;
    public const uint LvtThermalOffset = 0x330;
    public const uint LvtPerformanceOffset = 0x340;
    public const uint LvtLint0Offset = 0x350;
    public const uint LvtLint1Offset = 0x360;
    public const uint LvtErrorOffset = 0x370;
    public const uint TimerInitialCountOffset = 0x380;
    public const uint TimerCurrentCountOffset = 0x390;
    public const uint TimerDivideOffset = 0x3E0;

    public const uint X2ApicMsrBase = 0x800;
    public const uint X2ApicMsrLast = 0x8FF;
    public const uint X2ApicIcrMsr = 0x830;
    public const uint X2ApicSelfIpiMsr = 0x83F;
    public const uint TscDeadlineMsr = 0x6E0;

    public const ulong BaseMsrBsp = 1UL << 8;
    public const ulong BaseMsrX2Apic = 1UL << 10;
    public const ulong BaseMsrEnable = 1UL << 11;

    public const uint SvrSoftwareEnable = 1u << 8;
    public const uint LvtMasked = 1u << 16;
    public const uint LvtRemoteIrr = 1u << 14;
    public const uint LvtLevelTriggered = 1u << 15;
    public const uint LvtActiveLow = 1u << 13;

    public const uint EsrSendIllegalVector = 1u << 5;
    public const uint EsrReceiveIllegalVector = 1u << 6;

    // Bits 12-51 (the base page, up to the architectural MAXPHYADDR limit), BSP, x2APIC, enable.
    private const ulong BaseMsrWritable = 0x000F_FFFF_FFFF_F000UL | BaseMsrBsp | BaseMsrX2Apic | BaseMsrEnable;

    // ICR low: vector, delivery mode, destination mode, level, trigger, shorthand. Bit 12
    // (delivery status) always reads 0 because delivery is instantaneous.
    private const uint IcrLowWritable = 0x000C_CFFF;

    // x2APIC ICR bits that raise #GP when set: 13, 17:16, 31:20 (bit 12 is ignored).
    private const ulong X2ApicIcrReserved = 0xFFF3_2000UL;

    private const int LvtTimer = 0;
    private const int LvtLint0 = 3;
    private const int LvtLint1 = 4;
    private const int LvtError = 5;
    /// <summary>LVT entries: timer, thermal, performance counter, LINT0, LINT1, error.</summary>
    public const int LvtCount = 6;

    /// <summary>32-bit words of the 256-bit ISR, TMR and IRR.</summary>
    public const int VectorWords = 8;

    private const int TimerModeOneShot = 0;
    private const int TimerModePeriodic = 1;
    private const int TimerModeTscDeadline = 2;

    private readonly Lock _lock = new();
    private readonly uint _apicId;
    private readonly IPlatformClock _clock;
    private readonly ApicBus _bus;
    private readonly ILocalApicSink _sink;
    private volatile IExternalInterruptSource? _external;
    private long _nmisDropped;

    private ulong _baseMsr;
    private uint _tpr;
    private uint _ldr;
    private uint _dfr;
    private uint _svr;
    private readonly uint[] _isr = new uint[VectorWords];

    // Vectors acknowledged without going in service (the SynIC's auto-EOI SINTs); set by the SynIC, which saves them.
    private readonly uint[] _autoEoi = new uint[VectorWords];
    private readonly uint[] _tmr = new uint[VectorWords];
    private readonly uint[] _irr = new uint[VectorWords];

    // False only while IRR is empty: set with every request, cleared under the lock when IRR is seen empty.
    // The processor asks between blocks after every STI, POPF and IRET; with nothing requested the answer
    // needs no lock (a request made meanwhile notifies the sink after setting this).
    private volatile bool _mayHaveRequests;
    private uint _esrLatched;
    private uint _esrPending;
    private readonly uint[] _lvt = new uint[LvtCount];
    private uint _icrLow;
    private uint _icrHigh;
    private uint _timerInitial;
    private uint _timerDivide;
    private bool _timerArmed;
    private long _timerNext;
    private TickBacklog _timerBacklog;
    private ulong _tscDeadline;
    private long _tscDeadlineNs;
    private bool _lint0Level;
    private bool _lint1Level;
    private bool _initPending;
    private bool _waitingForStartup;
    private bool _startupPending;
    private byte _startupVector;

    /// <param name="apicId">The APIC ID (the full 32 bits in x2APIC mode, the low 8 in xAPIC mode); read-only to the guest.</param>
    /// <param name="bootstrap">The bootstrap processor runs from reset; every other processor waits for a start-up IPI.</param>
    /// <param name="clock">Virtual time the timer runs on.</param>
    /// <param name="bus">The machine's APIC bus, which IPIs and EOI broadcasts go through; attaching is the caller's job.</param>
    /// <param name="sink">The owner, told when to look at the APIC again.</param>
    public LocalApic(uint apicId, bool bootstrap, IPlatformClock clock, ApicBus bus, ILocalApicSink sink)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(sink);
        _apicId = apicId;
        _clock = clock;
        _bus = bus;
        _sink = sink;
        _baseMsr = DefaultBase | BaseMsrEnable | (bootstrap ? BaseMsrBsp : 0);
        ResetRegistersLocked();
        _waitingForStartup = !bootstrap;
    }

    /// <summary>The APIC ID this APIC was built with.</summary>
    public uint ApicId => _apicId;

    /// <summary>
    /// The 8259 behind LINT0, acknowledged when LINT0 is an unmasked ExtINT (virtual wire mode) or
    /// the APIC is hardware-disabled. Wired once, before the vCPU runs.
    /// </summary>
    public IExternalInterruptSource? ExternalInterrupts
    {
        get => _external;
        set => _external = value;
    }

    /// <summary>
    /// NMIs that arrived (NMI IPIs, LINT pins in NMI mode) and were lost because the processor held
    /// one already: it latches one while another is pending or its handler runs (SDM vol. 3, 6.7.1).
    /// </summary>
    public long NmisDropped => Interlocked.Read(ref _nmisDropped);

    public ulong ApicBaseMsr
    {
        get
        {
            lock (_lock)
                return _baseMsr;
        }
    }

    public ulong MmioBase
    {
        get
        {
            lock (_lock)
                return HardwareEnabled && !X2ApicMode ? _baseMsr & 0x000F_FFFF_FFFF_F000UL : ulong.MaxValue;
        }
    }

    /// <summary>An INIT or a start-up IPI is waiting for <see cref="TakeInit"/> or <see cref="TakeStartup"/>.</summary>
    // Asked after every interrupt request: two flags that whoever sets them notifies about afterwards need no lock.
    public bool HasStartupEvent => Volatile.Read(ref _initPending) || Volatile.Read(ref _startupPending);

    /// <summary>The processor is in wait-for-SIPI: it does not run until <see cref="TakeStartup"/> succeeds.</summary>
    public bool WaitingForStartup
    {
        get
        {
            lock (_lock)
                return _waitingForStartup;
        }
    }

    /// <summary>
    /// When the timer next wants <see cref="UpdateTimer"/>, in <see cref="IPlatformClock"/>
    /// nanoseconds (possibly already past); null when no expiry is coming without guest programming.
    /// </summary>
    public long? NextTimerEventNanoseconds
    {
        get
        {
            lock (_lock)
                return NextTimerEventLocked();
        }
    }

    public ulong TscDeadline
    {
        get
        {
            // A deadline that has passed reads 0 even if the owner's timer thread is late.
            UpdateTimer();
            lock (_lock)
                return _tscDeadline;
        }
    }

    public int TaskPriorityClass
    {
        get
        {
            lock (_lock)
                return (int)(_tpr >> 4);
        }
        set
        {
            bool notify;
            lock (_lock)
            {
                _tpr = (uint)(value & 0xF) << 4;
                notify = DeliverableVectorLocked() >= 0;
            }
            if (notify)
                _sink.InterruptRequested();
        }
    }

    public bool HasDeliverableInterrupt
    {
        get
        {
            if (NothingToPresent)
                return false;
            bool external;
            lock (_lock)
            {
                if (DeliverableVectorLocked() >= 0)
                    return true;
                external = ExternalRouteLocked();
            }
            // The 8259 has its own lock: ask it after releasing ours.
            return external && _external is { } pic && pic.InterruptPending;
        }
    }

    private bool HardwareEnabled => (_baseMsr & BaseMsrEnable) != 0;

    private bool X2ApicMode => (_baseMsr & (BaseMsrEnable | BaseMsrX2Apic)) == (BaseMsrEnable | BaseMsrX2Apic);

    private bool SoftwareEnabled => (_svr & SvrSoftwareEnable) != 0;

    private int TimerMode => (int)(_lvt[LvtTimer] >> 17) & 3;

    private long TimerDivisor
    {
        get
        {
            uint code = ((_timerDivide >> 1) & 4) | (_timerDivide & 3);
            return code == 7 ? 1 : 2L << (int)code;
        }
    }

    private uint X2ApicLdr => ((_apicId >> 4) << 16) | (1u << (int)(_apicId & 15));

    public bool TryWriteApicBaseMsr(ulong value)
    {
        if ((value & ~BaseMsrWritable) != 0)
            return false;
        bool enable = (value & BaseMsrEnable) != 0;
        bool x2 = (value & BaseMsrX2Apic) != 0;
        if (x2 && !enable)
            return false;
        var work = new PendingWork();
        lock (_lock)
        {
            bool wasEnabled = HardwareEnabled;
            bool wasX2 = X2ApicMode;
            // SDM 10.12.5: x2APIC can only be left through the disabled state, and only entered from xAPIC.
            if (wasX2 && enable && !x2)
                return false;
            if (!wasEnabled && x2)
                return false;
            long? before = NextTimerEventLocked();
            _baseMsr = value;
            if (wasEnabled && !enable)
                ResetRegistersLocked();
            work.TimerChanged = before != NextTimerEventLocked();
            // Hardware-disabled, the 8259's INTR goes straight to the processor.
            work.Notify = !enable || DeliverableVectorLocked() >= 0;
        }
        Finish(ref work);
        return true;
    }

    public ulong ReadMmio(uint offset, int size)
    {
        if (offset > 0xFFF || size is not (1 or 2 or 4 or 8))
            return 0;
        int byteInRegister = (int)(offset & 0xF);
        if (byteInRegister >= 4)
            return 0;
        ulong register;
        lock (_lock)
        {
            if (!HardwareEnabled || X2ApicMode)
                return 0;
            ReadRegisterLocked(offset >> 4, x2: false, out register);
        }
        ulong value = (register & 0xFFFF_FFFFUL) >> (8 * byteInRegister);
        return size == 8 ? value : value & ((1UL << (8 * size)) - 1);
    }

    public void WriteMmio(uint offset, int size, ulong value)
    {
        if (offset > 0xFFF || size != 4 || (offset & 0xF) != 0)
            return;
        var work = new PendingWork();
        lock (_lock)
        {
            if (!HardwareEnabled || X2ApicMode)
                return;
            long? before = NextTimerEventLocked();
            WriteRegisterLocked(offset >> 4, value & 0xFFFF_FFFFUL, x2: false, ref work);
            work.TimerChanged = before != NextTimerEventLocked();
        }
        Finish(ref work);
    }

    public bool OwnsMsr(uint index) => index is >= X2ApicMsrBase and <= X2ApicMsrLast or TscDeadlineMsr;

    public bool TryReadMsr(uint index, out ulong value)
    {
        if (index == TscDeadlineMsr)
        {
            value = TscDeadline;
            return true;
        }
        value = 0;
        if (!OwnsMsr(index))
            return false;
        lock (_lock)
        {
            if (!X2ApicMode)
                return false;
            return ReadRegisterLocked(index - X2ApicMsrBase, x2: true, out value);
        }
    }

    /// <summary>
    /// Writes an x2APIC MSR; false means #GP. IA32_TSC_DEADLINE is not written here (the caller
    /// converts it to clock time and uses <see cref="WriteTscDeadline"/>), so it answers false.
    /// </summary>
    public bool TryWriteMsr(uint index, ulong value)
    {
        if (index is < X2ApicMsrBase or > X2ApicMsrLast)
            return false;
        var work = new PendingWork();
        bool ok;
        lock (_lock)
        {
            if (!X2ApicMode)
                return false;
            long? before = NextTimerEventLocked();
            ok = WriteRegisterLocked(index - X2ApicMsrBase, value, x2: true, ref work);
            work.TimerChanged = before != NextTimerEventLocked();
        }
        Finish(ref work);
        return ok;
    }

    public void WriteTscDeadline(ulong tscValue, long clockNanoseconds)
    {
        bool changed;
        lock (_lock)
        {
            if (!HardwareEnabled || TimerMode != TimerModeTscDeadline)
                return;
            long? before = NextTimerEventLocked();
            _tscDeadline = tscValue;
            _tscDeadlineNs = clockNanoseconds;
            changed = before != NextTimerEventLocked();
        }
        if (changed)
            _sink.TimerProgrammed();
    }

    public int AcknowledgeInterrupt() => Acknowledge(spuriousWhenMasked: true);

    public int TryAcknowledgeInterrupt() => NothingToPresent ? -1 : Acknowledge(spuriousWhenMasked: false);

    private int Acknowledge(bool spuriousWhenMasked)
    {
        bool external;
        bool requestMasked;
        byte spurious;
        lock (_lock)
        {
            int vector = AcknowledgeLocked();
            if (vector >= 0)
                return vector;
            external = ExternalRouteLocked();
            requestMasked = spuriousWhenMasked && HighestBit(_irr) >= 0;
            spurious = (byte)_svr;
        }
        if (external && _external is { } pic && pic.InterruptPending)
            return pic.Acknowledge();
        // Something was requested but the processor priority now hides it: the APIC answers the
        // INTA cycle with the spurious vector and puts nothing in service.
        return requestMasked ? spurious : -1;
    }

    /// <summary>Moves the vector the processor would take now from IRR to ISR (unless it is auto-EOI) and returns it, or -1.</summary>
    private int AcknowledgeLocked()
    {
        int vector = DeliverableVectorLocked();
        if (vector >= 0)
        {
            ClearBit(_irr, vector);
            if (!TestBit(_autoEoi, vector))
                SetBit(_isr, vector);
        }
        if (HighestBit(_irr) < 0)
            _mayHaveRequests = false;
        return vector;
    }

    /// <summary>
    /// Lock-free: IRR is empty, and the 8259 either cannot reach the processor through this APIC or has
    /// nothing to give. The base MSR and LINT0 change only on the owning vCPU's thread, so that thread reads
    /// them current without the lock; a request made meanwhile notifies the processor afterwards.
    /// </summary>
    private bool NothingToPresent => !_mayHaveRequests && (!ExternalRouteLocked() || _external is not { InterruptPending: true });

    /// <summary>
    /// Accepts a fixed interrupt as if a message arrived: sets IRR (and TMR for a level-triggered
    /// one). Vectors 0-15 are illegal: they set ESR bit 6 and are dropped.
    /// </summary>
    public void Accept(byte vector, bool levelTriggered)
    {
        bool notify;
        lock (_lock)
            notify = AcceptLocked(vector, levelTriggered);
        if (notify)
            _sink.InterruptRequested();
    }

    /// <summary>
    /// The vectors that are acknowledged without going in service, so that the guest writes no EOI
    /// for them (Hyper-V's auto-EOI SINTs): 256 bits, replacing the previous set.
    /// </summary>
    public void SetAutoEoiVectors(ReadOnlySpan<ulong> vectors)
    {
        lock (_lock)
        {
            for (int i = 0; i < VectorWords; i++)
                _autoEoi[i] = (uint)(vectors[i / 2] >> (32 * (i % 2)));
        }
    }

    /// <summary>Sets the electrical level of the LINT0 pin (the 8259's INTR in virtual wire mode).</summary>
    public void SetLint0(bool level) => SetLint(LvtLint0, level);

    /// <summary>Sets the electrical level of the LINT1 pin (NMI on a PC).</summary>
    public void SetLint1(bool level) => SetLint(LvtLint1, level);

    /// <summary>
    /// On the vCPU thread: if an INIT arrived, consumes it, resets the APIC registers to their
    /// power-up state (the ID and base MSR stay) and enters wait-for-SIPI, except on the processor
    /// whose base MSR has the BSP flag, which restarts at once (as KVM does). Call before
    /// <see cref="TakeStartup"/>.
    /// </summary>
    public bool TakeInit()
    {
        bool timerChanged;
        lock (_lock)
        {
            if (!_initPending)
                return false;
            _initPending = false;
            timerChanged = NextTimerEventLocked() is not null;
            ResetRegistersLocked();
            _waitingForStartup = (_baseMsr & BaseMsrBsp) == 0;
        }
        if (timerChanged)
            _sink.TimerProgrammed();
        return true;
    }

    /// <summary>
    /// On the vCPU thread: if a start-up IPI arrived while waiting for one, consumes it, leaves
    /// wait-for-SIPI and returns its vector: the processor starts in real mode at vector × 0x1000.
    /// </summary>
    public bool TakeStartup(out byte vector)
    {
        lock (_lock)
        {
            if (!_startupPending)
            {
                vector = 0;
                return false;
            }
            vector = _startupVector;
            _startupPending = false;
            _waitingForStartup = false;
            return true;
        }
    }

    /// <summary>Periodic timer ticks owed to the guest (see <see cref="TickBacklog"/>); for tests and diagnostics.</summary>
    public int TimerPendingTicks
    {
        get
        {
            lock (_lock)
                return _timerBacklog.Pending;
        }
    }

    /// <summary>
    /// Called by the owner at (or after) <see cref="NextTimerEventNanoseconds"/>: raises the LVT
    /// timer vector unless masked. A periodic timer re-arms on its own grid (previous deadline plus
    /// whole periods), so late calls never drift it, and the periods that ended meanwhile are
    /// counted from the clock into the backlog.
    /// </summary>
    public void UpdateTimer()
    {
        bool notify = false;
        lock (_lock)
        {
            long now = _clock.NowNanoseconds;
            int mode = TimerMode;
            if (mode == TimerModeTscDeadline)
            {
                if (_tscDeadline != 0 && now >= _tscDeadlineNs)
                {
                    _tscDeadline = 0;
                    notify = FireTimerLocked();
                }
            }
            else if (_timerArmed && now >= _timerNext)
            {
                if (mode == TimerModePeriodic)
                {
                    notify = PeriodsEndedLocked(CatchUpPeriodicLocked(now));
                }
                else
                {
                    notify = FireTimerLocked();
                    _timerArmed = false;
                }
            }
        }
        if (notify)
            _sink.InterruptRequested();
    }

    public LocalApicState SaveState()
    {
        lock (_lock)
        {
            long now = _clock.NowNanoseconds;
            return new LocalApicState
            {
                ApicId = _apicId,
                ApicBaseMsr = _baseMsr,
                Tpr = _tpr,
                Ldr = _ldr,
                Dfr = _dfr,
                Svr = _svr,
                Isr = (uint[])_isr.Clone(),
                Tmr = (uint[])_tmr.Clone(),
                Irr = (uint[])_irr.Clone(),
                EsrLatched = _esrLatched,
                EsrPending = _esrPending,
                Lvt = (uint[])_lvt.Clone(),
                IcrLow = _icrLow,
                IcrHigh = _icrHigh,
                TimerInitialCount = _timerInitial,
                TimerDivideConfiguration = _timerDivide,
                TimerArmed = _timerArmed,
                TimerNextEventRelativeNanoseconds = _timerArmed ? _timerNext - now : 0,
                TscDeadline = _tscDeadline,
                TscDeadlineRelativeNanoseconds = _tscDeadline != 0 ? _tscDeadlineNs - now : 0,
                Lint0Level = _lint0Level,
                Lint1Level = _lint1Level,
                InitPending = _initPending,
                WaitingForStartup = _waitingForStartup,
                StartupPending = _startupPending,
                StartupVector = _startupVector,
                NmisDropped = Interlocked.Read(ref _nmisDropped),
                TimerPendingTicks = _timerBacklog.Pending,
                TimerAwaitingEoi = _timerBacklog.AwaitingAcknowledge,
            };
        }
    }

    /// <summary>Why <paramref name="state"/> cannot be restored into this APIC, or null: lets a machine check every part before it changes any.</summary>
    public string? FindRestoreProblem(LocalApicState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.ApicId != _apicId)
            return $"state of APIC {state.ApicId} restored into APIC {_apicId}";
        if (state.Isr is not { Length: VectorWords } || state.Tmr is not { Length: VectorWords } || state.Irr is not { Length: VectorWords })
            return $"ISR, TMR and IRR must have {VectorWords} words each";
        if (state.Lvt is not { Length: LvtCount })
            return $"LVT must have {LvtCount} entries";
        return null;
    }

    public void RestoreState(LocalApicState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (FindRestoreProblem(state) is string problem)
            throw new ArgumentException(problem, nameof(state));
        var work = new PendingWork();
        lock (_lock)
        {
            long now = _clock.NowNanoseconds;
            _baseMsr = state.ApicBaseMsr;
            _tpr = state.Tpr;
            _ldr = state.Ldr;
            _dfr = state.Dfr;
            _svr = state.Svr;
            state.Isr.CopyTo(_isr, 0);
            state.Tmr.CopyTo(_tmr, 0);
            state.Irr.CopyTo(_irr, 0);
            _mayHaveRequests = true;
            _esrLatched = state.EsrLatched;
            _esrPending = state.EsrPending;
            state.Lvt.CopyTo(_lvt, 0);
            _icrLow = state.IcrLow;
            _icrHigh = state.IcrHigh;
            _timerInitial = state.TimerInitialCount;
            _timerDivide = state.TimerDivideConfiguration;
            _timerArmed = state.TimerArmed && state.TimerInitialCount != 0;
            _timerNext = _timerArmed ? now + state.TimerNextEventRelativeNanoseconds : 0;
            _tscDeadline = state.TscDeadline;
            _tscDeadlineNs = state.TscDeadline != 0 ? now + state.TscDeadlineRelativeNanoseconds : 0;
            _lint0Level = state.Lint0Level;
            _lint1Level = state.Lint1Level;
            _initPending = state.InitPending;
            _waitingForStartup = state.WaitingForStartup;
            _startupPending = state.StartupPending;
            _startupVector = state.StartupVector;
            Interlocked.Exchange(ref _nmisDropped, state.NmisDropped);
            _timerBacklog.Restore(state.TimerPendingTicks, state.TimerAwaitingEoi);
            work.TimerChanged = true;
            work.Notify = true;
        }
        Finish(ref work);
    }

    /// <summary>A message from the bus addressed to this APIC.</summary>
    internal void Receive(in ApicMessage message)
    {
        bool notify = false;
        bool nmi = false;
        lock (_lock)
        {
            if (!HardwareEnabled)
                return;
            switch (message.DeliveryMode)
            {
                case ApicDeliveryMode.Fixed:
                case ApicDeliveryMode.LowestPriority:
                    // A level-triggered de-assert message carries no interrupt.
                    if (!message.LevelTriggered || message.Assert)
                        notify = AcceptLocked(message.Vector, message.LevelTriggered);
                    break;
                case ApicDeliveryMode.Nmi:
                    // Edge-triggered whatever the ICR says; the vector is ignored (SDM 10.6.1).
                    nmi = true;
                    break;
                case ApicDeliveryMode.Init:
                    // INIT level de-assert only resynchronised arbitration IDs on the P6; a no-op since.
                    if (!message.LevelTriggered || message.Assert)
                        notify = InitLocked();
                    break;
                case ApicDeliveryMode.StartUp:
                    // Accepted while waiting for SIPI, or when an INIT not yet taken will make the
                    // processor wait (the usual INIT, SIPI sequence can outrun the vCPU thread).
                    bool willWait = _waitingForStartup || (_initPending && (_baseMsr & BaseMsrBsp) == 0);
                    if (willWait && !_startupPending)
                    {
                        _startupPending = true;
                        _startupVector = message.Vector;
                        notify = true;
                    }
                    break;
                default:
                    // SMI, ExtINT (only meaningful from an IOAPIC pin in virtual wire mode) and reserved.
                    break;
            }
        }
        if (nmi)
            RaiseNmi();
        if (notify)
            _sink.InterruptRequested();
    }

    /// <summary>Hands an NMI to the processor, outside the lock; counts it when the processor's latch was full.</summary>
    private void RaiseNmi()
    {
        if (!_sink.NmiRequested())
            Interlocked.Increment(ref _nmisDropped);
    }

    /// <summary>Whether a message with this destination (not a shorthand) addresses this APIC.</summary>
    internal bool MatchesDestination(uint destination, bool logical)
    {
        lock (_lock)
        {
            if (!HardwareEnabled)
                return false;
            if (X2ApicMode)
            {
                if (destination == uint.MaxValue)
                    return true;
                if (!logical)
                    return destination == _apicId;
                uint ldr = X2ApicLdr;
                return (destination >> 16) == (ldr >> 16) && (destination & ldr & 0xFFFF) != 0;
            }
            if (!logical)
                return destination is 0xFF or uint.MaxValue || destination == (_apicId & 0xFF);
            if (destination is 0xFF or uint.MaxValue)
                return true;
            if (destination > 0xFF)
                return false;
            uint logicalId = _ldr >> 24;
            return (_dfr >> 28) switch
            {
                0xF => (logicalId & destination) != 0,
                0x0 => (logicalId >> 4) == (destination >> 4) && (logicalId & destination & 0xF) != 0,
                _ => false,
            };
        }
    }

    /// <summary>Hardware-enabled: on the bus at all.</summary>
    internal bool IsHardwareEnabled
    {
        get
        {
            lock (_lock)
                return HardwareEnabled;
        }
    }

    /// <summary>The TPR, which lowest-priority arbitration compares.</summary>
    internal uint ArbitrationTpr
    {
        get
        {
            lock (_lock)
                return _tpr;
        }
    }

    private void SetLint(int index, bool level)
    {
        bool notify;
        bool nmi = false;
        lock (_lock)
        {
            bool old = index == LvtLint0 ? _lint0Level : _lint1Level;
            if (index == LvtLint0)
                _lint0Level = level;
            else
                _lint1Level = level;
            notify = LintChangedLocked(index, old, level, ref nmi);
        }
        if (nmi)
            RaiseNmi();
        if (notify)
            _sink.InterruptRequested();
    }

    private bool LintChangedLocked(int index, bool oldLevel, bool level, ref bool nmi)
    {
        if (!HardwareEnabled)
        {
            // A disabled APIC passes the pins straight through: LINT0 is INTR, LINT1 is NMI (rising edge).
            nmi = index == LvtLint1 && level && !oldLevel;
            return index == LvtLint0 && level;
        }
        uint lvt = _lvt[index];
        if ((lvt & LvtMasked) != 0)
            return false;
        bool activeLow = (lvt & LvtActiveLow) != 0;
        bool asserted = level != activeLow;
        bool rising = asserted && oldLevel == activeLow;
        switch ((ApicDeliveryMode)((lvt >> 8) & 7))
        {
            case ApicDeliveryMode.ExtInt:
                return asserted;
            case ApicDeliveryMode.Nmi:
                // NMI mode is edge-triggered whatever the trigger bit says (SDM 10.5.1).
                nmi = rising;
                return false;
            case ApicDeliveryMode.Init:
                return rising && InitLocked();
            case ApicDeliveryMode.Fixed:
                if ((lvt & LvtLevelTriggered) != 0)
                    return EvaluateLevelLintLocked(index);
                return rising && AcceptLocked((byte)lvt, levelTriggered: false);
            default:
                return false;
        }
    }

    /// <summary>A level-triggered fixed LINT pin: deliver while asserted and remote IRR is clear (it is set until the EOI).</summary>
    private bool EvaluateLevelLintLocked(int index)
    {
        uint lvt = _lvt[index];
        if ((lvt & (LvtMasked | LvtRemoteIrr)) != 0 || (lvt & LvtLevelTriggered) == 0 || ((lvt >> 8) & 7) != 0)
            return false;
        bool level = index == LvtLint0 ? _lint0Level : _lint1Level;
        if (level == ((lvt & LvtActiveLow) != 0))
            return false;
        _lvt[index] = lvt | LvtRemoteIrr;
        return AcceptLocked((byte)lvt, levelTriggered: true);
    }

    private bool InitLocked()
    {
        _initPending = true;
        // A start-up IPI from before this INIT is superseded by it.
        _startupPending = false;
        return true;
    }

    private bool AcceptLocked(byte vector, bool levelTriggered)
    {
        if (!HardwareEnabled)
            return false;
        if (vector < 16)
            return SignalErrorLocked(EsrReceiveIllegalVector);
        SetBit(_irr, vector);
        _mayHaveRequests = true;
        if (levelTriggered)
            SetBit(_tmr, vector);
        else
            ClearBit(_tmr, vector);
        return true;
    }

    /// <summary>Records an error for the next ESR latch and raises the LVT error vector unless masked.</summary>
    private bool SignalErrorLocked(uint error)
    {
        _esrPending |= error;
        uint lvt = _lvt[LvtError];
        if ((lvt & LvtMasked) != 0)
            return false;
        int vector = (int)(lvt & 0xFF);
        if (vector < 16)
        {
            // An illegal error vector is itself an error, but raising it again would loop.
            _esrPending |= EsrReceiveIllegalVector;
            return false;
        }
        SetBit(_irr, vector);
        _mayHaveRequests = true;
        ClearBit(_tmr, vector);
        return true;
    }

    private bool FireTimerLocked()
    {
        uint lvt = _lvt[LvtTimer];
        return (lvt & LvtMasked) == 0 && AcceptLocked((byte)lvt, levelTriggered: false);
    }

    /// <summary>Moves a periodic timer past every deadline at or before <paramref name="now"/>; returns how many periods ended.</summary>
    private long CatchUpPeriodicLocked(long now)
    {
        if (!_timerArmed || TimerMode != TimerModePeriodic || now < _timerNext)
            return 0;
        long period = _timerInitial * TimerDivisor;
        long ended = ((now - _timerNext) / period) + 1;
        _timerNext += ended * period;
        return ended;
    }

    /// <summary>
    /// <paramref name="periods"/> periodic ticks are due: raises one now unless the last awaits its
    /// EOI, in which case they wait in the backlog. Ticks of a masked timer are lost, as on hardware.
    /// </summary>
    private bool PeriodsEndedLocked(long periods)
    {
        if (periods <= 0 || (_lvt[LvtTimer] & LvtMasked) != 0)
            return false;
        int cap = TickBacklog.CapFor(_timerInitial * TimerDivisor);
        return _timerBacklog.Due(periods, cap) && FireTimerLocked();
    }

    /// <summary>The guest EOI'd the timer vector: counts what fell due since the timer thread last looked, then raises the next owed tick.</summary>
    private bool TimerTickAcknowledgedLocked()
    {
        bool raised = PeriodsEndedLocked(CatchUpPeriodicLocked(_clock.NowNanoseconds));
        if (_timerBacklog.Acknowledged())
            raised |= FireTimerLocked();
        return raised;
    }

    private bool ExternalRouteLocked()
    {
        if (!HardwareEnabled)
            return true;
        uint lint0 = _lvt[LvtLint0];
        return (lint0 & LvtMasked) == 0 && ((lint0 >> 8) & 7) == (uint)ApicDeliveryMode.ExtInt;
    }

    /// <summary>The IRR vector the processor would take now, or -1.</summary>
    private int DeliverableVectorLocked()
    {
        if (!HardwareEnabled || !SoftwareEnabled)
            return -1;
        int vector = HighestBit(_irr);
        if (vector < 0)
            return -1;
        return (vector & 0xF0) > (ProcessorPriorityLocked() & 0xF0) ? vector : -1;
    }

    private uint ProcessorPriorityLocked()
    {
        int isr = HighestBit(_isr);
        uint isrClass = isr < 0 ? 0 : (uint)isr & 0xF0;
        return (_tpr & 0xF0) >= isrClass ? _tpr & 0xFF : isrClass;
    }

    private uint ArbitrationPriorityLocked()
    {
        int isr = HighestBit(_isr);
        int irr = HighestBit(_irr);
        uint isrClass = isr < 0 ? 0 : (uint)isr & 0xF0;
        uint irrClass = irr < 0 ? 0 : (uint)irr & 0xF0;
        uint tprClass = _tpr & 0xF0;
        if (tprClass >= irrClass && tprClass > isrClass)
            return _tpr & 0xFF;
        return Math.Max(tprClass, Math.Max(isrClass, irrClass));
    }

    private long? NextTimerEventLocked()
    {
        if (TimerMode == TimerModeTscDeadline)
            return _tscDeadline != 0 ? _tscDeadlineNs : null;
        return _timerArmed ? _timerNext : null;
    }

    private uint CurrentCountLocked(long now)
    {
        int mode = TimerMode;
        if (mode == TimerModeTscDeadline || !_timerArmed)
            return 0;
        long divisor = TimerDivisor;
        long remaining = _timerNext - now;
        if (remaining <= 0)
        {
            if (mode != TimerModePeriodic)
                return 0;
            long period = _timerInitial * divisor;
            remaining = period - (-remaining % period);
        }
        return (uint)Math.Min(uint.MaxValue, (remaining + divisor - 1) / divisor);
    }

    /// <summary>Power-up register state (SDM 10.4.7.1); the ID, base MSR, pin levels and INIT/SIPI state are the caller's.</summary>
    private void ResetRegistersLocked()
    {
        _tpr = 0;
        _ldr = 0;
        _dfr = uint.MaxValue;
        _svr = 0xFF;
        Array.Clear(_isr);
        Array.Clear(_tmr);
        Array.Clear(_irr);
        _esrLatched = 0;
        _esrPending = 0;
        _lvt.AsSpan().Fill(LvtMasked);
        _icrLow = 0;
        _icrHigh = 0;
        _timerInitial = 0;
        _timerDivide = 0;
        _timerArmed = false;
        _timerNext = 0;
        _timerBacklog.Clear();
        _tscDeadline = 0;
        _tscDeadlineNs = 0;
    }

    /// <summary>Reads register slot <paramref name="register"/> (offset / 16); false means #GP in x2APIC mode.</summary>
    private bool ReadRegisterLocked(uint register, bool x2, out ulong value)
    {
        value = 0;
        switch (register)
        {
            case IdOffset >> 4:
                value = x2 ? _apicId : (_apicId & 0xFF) << 24;
                return true;
            case VersionOffset >> 4:
                value = VersionValue;
                return true;
            case TprOffset >> 4:
                value = _tpr;
                return true;
            case AprOffset >> 4:
                if (x2)
                    return false;
                value = ArbitrationPriorityLocked();
                return true;
            case PprOffset >> 4:
                value = ProcessorPriorityLocked();
                return true;
            case LdrOffset >> 4:
                value = x2 ? X2ApicLdr : _ldr;
                return true;
            case DfrOffset >> 4:
                if (x2)
                    return false;
                value = _dfr;
                return true;
            case SvrOffset >> 4:
                value = _svr;
                return true;
            case >= IsrOffset >> 4 and < (IsrOffset >> 4) + 8:
                value = _isr[register - (IsrOffset >> 4)];
                return true;
            case >= TmrOffset >> 4 and < (TmrOffset >> 4) + 8:
                value = _tmr[register - (TmrOffset >> 4)];
                return true;
            case >= IrrOffset >> 4 and < (IrrOffset >> 4) + 8:
                value = _irr[register - (IrrOffset >> 4)];
                return true;
            case EsrOffset >> 4:
                value = _esrLatched;
                return true;
            case IcrLowOffset >> 4:
                value = x2 ? ((ulong)_icrHigh << 32) | _icrLow : _icrLow;
                return true;
            case IcrHighOffset >> 4:
                if (x2)
                    return false;
                value = _icrHigh;
                return true;
            case >= LvtTimerOffset >> 4 and <= LvtErrorOffset >> 4:
                value = _lvt[register - (LvtTimerOffset >> 4)];
                return true;
            case TimerInitialCountOffset >> 4:
                value = _timerInitial;
                return true;
            case TimerCurrentCountOffset >> 4:
                value = CurrentCountLocked(_clock.NowNanoseconds);
                return true;
            case TimerDivideOffset >> 4:
                value = _timerDivide;
                return true;
            default:
                // EOI, RRD and SELF IPI are write-only or absent; CMCI and the rest are reserved.
                return !x2;
        }
    }

    /// <summary>Writes register slot <paramref name="register"/>; false means #GP in x2APIC mode (xAPIC ignores bad writes).</summary>
    private bool WriteRegisterLocked(uint register, ulong value, bool x2, ref PendingWork work)
    {
        // In x2APIC mode bits 63:32 of everything but the ICR are reserved.
        if (x2 && register != IcrLowOffset >> 4 && (value >> 32) != 0)
            return false;
        uint v = (uint)value;
        switch (register)
        {
            case TprOffset >> 4:
                _tpr = v & 0xFF;
                work.Notify |= DeliverableVectorLocked() >= 0;
                return true;
            case EoiOffset >> 4:
                if (x2 && v != 0)
                    return false;
                EoiLocked(ref work);
                return true;
            case LdrOffset >> 4:
                if (x2)
                    return false;
                _ldr = v & 0xFF00_0000;
                return true;
            case DfrOffset >> 4:
                if (x2)
                    return false;
                _dfr = v | 0x0FFF_FFFF;
                return true;
            case SvrOffset >> 4:
                _svr = v & 0x3FF;
                if (!SoftwareEnabled)
                {
                    for (int i = 0; i < LvtCount; i++)
                        _lvt[i] |= LvtMasked;
                }
                work.Notify |= DeliverableVectorLocked() >= 0;
                return true;
            case EsrOffset >> 4:
                if (x2 && v != 0)
                    return false;
                // A write latches the errors detected since the previous write (SDM 10.5.3).
                _esrLatched = _esrPending;
                _esrPending = 0;
                return true;
            case IcrLowOffset >> 4:
                if (x2)
                {
                    if ((value & X2ApicIcrReserved) != 0)
                        return false;
                    _icrHigh = (uint)(value >> 32);
                }
                _icrLow = v & IcrLowWritable;
                SendIpiLocked(x2, ref work);
                return true;
            case IcrHighOffset >> 4:
                if (x2)
                    return false;
                _icrHigh = v & 0xFF00_0000;
                return true;
            case >= LvtTimerOffset >> 4 and <= LvtErrorOffset >> 4:
                WriteLvtLocked((int)(register - (LvtTimerOffset >> 4)), v, ref work);
                return true;
            case TimerInitialCountOffset >> 4:
                WriteInitialCountLocked(v);
                return true;
            case TimerDivideOffset >> 4:
                WriteDivideLocked(v);
                return true;
            case X2ApicSelfIpiMsr - X2ApicMsrBase:
                if (!x2)
                    return true; // Not a register in xAPIC mode.
                SendSelfIpiLocked((byte)v, ref work);
                return true;
            default:
                // Read-only (ID, VER, APR, PPR, ISR, TMR, IRR, current count), RRD, CMCI, reserved.
                return !x2;
        }
    }

    private void EoiLocked(ref PendingWork work)
    {
        int vector = HighestBit(_isr);
        if (vector < 0)
            return;
        ClearBit(_isr, vector);
        // The periodic timer's next owed tick goes in as soon as the guest is done with the last.
        if (_timerBacklog.AwaitingAcknowledge && vector == (int)(_lvt[LvtTimer] & 0xFF))
            work.Notify |= TimerTickAcknowledgedLocked();
        if (TestBit(_tmr, vector))
        {
            work.EoiBroadcastVector = vector;
            for (int index = LvtLint0; index <= LvtLint1; index++)
            {
                uint lvt = _lvt[index];
                if ((lvt & LvtRemoteIrr) != 0 && (lvt & 0xFF) == (uint)vector)
                {
                    _lvt[index] = lvt & ~LvtRemoteIrr;
                    work.Notify |= EvaluateLevelLintLocked(index);
                }
            }
        }
        else if (_bus.WantsEdgeEoi((byte)vector))
        {
            // An IOAPIC pin's device counts acknowledgements (the PIT's tick backlog).
            work.EoiBroadcastVector = vector;
        }
        work.Notify |= DeliverableVectorLocked() >= 0;
    }

    private void WriteLvtLocked(int index, uint value, ref PendingWork work)
    {
        uint writable = index switch
        {
            LvtTimer => 0x0007_00FFu,             // vector, mask, timer mode
            LvtLint0 or LvtLint1 => 0x0001_A7FFu, // vector, delivery mode, polarity, trigger, mask
            LvtError => 0x0001_00FFu,             // vector, mask
            _ => 0x0001_07FFu,                    // thermal, performance: vector, delivery mode, mask
        };
        uint old = _lvt[index];
        uint lvt = (value & writable) | (old & LvtRemoteIrr);
        if (!SoftwareEnabled)
            lvt |= LvtMasked;
        if (index == LvtTimer)
        {
            // A new vector, mode or mask is a reprogrammed timer: nothing of the old one is owed,
            // and an EOI for the old vector would never count.
            _timerBacklog.Clear();
            int oldMode = (int)(old >> 17) & 3;
            int newMode = (int)(lvt >> 17) & 3;
            // Switching into or out of TSC-deadline mode disarms the timer (SDM 10.5.4.1).
            if ((oldMode == TimerModeTscDeadline) != (newMode == TimerModeTscDeadline))
            {
                _timerInitial = 0;
                _timerArmed = false;
                _tscDeadline = 0;
            }
        }
        _lvt[index] = lvt;
        if (index is LvtLint0 or LvtLint1)
        {
            // A level-triggered pin that is already asserted delivers once unmasked; an ExtINT
            // route that just opened may have an 8259 request waiting behind it.
            if ((lvt & LvtRemoteIrr) != 0 && (lvt & LvtLevelTriggered) == 0)
                _lvt[index] = lvt & ~LvtRemoteIrr;
            work.Notify |= EvaluateLevelLintLocked(index) || (index == LvtLint0 && ExternalRouteLocked());
        }
    }

    private void WriteInitialCountLocked(uint count)
    {
        if (TimerMode == TimerModeTscDeadline)
            return;
        _timerInitial = count;
        _timerBacklog.Clear();
        _timerArmed = count != 0;
        _timerNext = count != 0 ? _clock.NowNanoseconds + (count * TimerDivisor) : 0;
    }

    private void WriteDivideLocked(uint value)
    {
        long now = _clock.NowNanoseconds;
        uint current = CurrentCountLocked(now);
        long oldDivisor = TimerDivisor;
        _timerDivide = value & 0xB;
        _timerBacklog.Clear();
        long divisor = TimerDivisor;
        // A running count continues from where it is, at the new rate.
        if (_timerArmed && current != 0 && divisor != oldDivisor)
            _timerNext = now + (current * divisor);
    }

    private void SendIpiLocked(bool x2, ref PendingWork work)
    {
        uint low = _icrLow;
        var mode = (ApicDeliveryMode)((low >> 8) & 7);
        byte vector = (byte)low;
        if ((mode is ApicDeliveryMode.Fixed or ApicDeliveryMode.LowestPriority) && vector < 16)
        {
            work.Notify |= SignalErrorLocked(EsrSendIllegalVector);
            return;
        }
        if (mode is ApicDeliveryMode.Smi or ApicDeliveryMode.ExtInt || (int)mode == 3)
            return;
        work.HasMessage = true;
        work.Message = new ApicMessage(
            mode,
            vector,
            x2 ? _icrHigh : _icrHigh >> 24,
            LogicalDestination: (low & (1u << 11)) != 0,
            (ApicShorthand)((low >> 18) & 3),
            LevelTriggered: (low & LvtLevelTriggered) != 0,
            Assert: (low & (1u << 14)) != 0,
            _apicId);
    }

    private void SendSelfIpiLocked(byte vector, ref PendingWork work)
    {
        if (vector < 16)
        {
            work.Notify |= SignalErrorLocked(EsrSendIllegalVector);
            return;
        }
        work.HasMessage = true;
        work.Message = new ApicMessage(ApicDeliveryMode.Fixed, vector, _apicId, false, ApicShorthand.Self, false, true, _apicId);
    }

    /// <summary>Does what a locked section decided, now that the lock is released.</summary>
    private void Finish(ref PendingWork work)
    {
        if (work.HasMessage)
            _bus.Deliver(in work.Message);
        if (work.EoiBroadcastVector >= 0)
            _bus.BroadcastEoi((byte)work.EoiBroadcastVector);
        if (work.TimerChanged)
            _sink.TimerProgrammed();
        if (work.Notify)
            _sink.InterruptRequested();
    }

    private static int HighestBit(uint[] bits)
    {
        for (int i = bits.Length - 1; i >= 0; i--)
        {
            if (bits[i] != 0)
                return (i * 32) + 31 - System.Numerics.BitOperations.LeadingZeroCount(bits[i]);
        }
        return -1;
    }

    private static void SetBit(uint[] bits, int bit) => bits[bit >> 5] |= 1u << (bit & 31);

    private static void ClearBit(uint[] bits, int bit) => bits[bit >> 5] &= ~(1u << (bit & 31));

    private static bool TestBit(uint[] bits, int bit) => (bits[bit >> 5] & (1u << (bit & 31))) != 0;

    /// <summary>What a locked section leaves to do after the lock is released.</summary>
    private struct PendingWork
    {
        public bool Notify;
        public bool TimerChanged;
        public bool HasMessage;
        public ApicMessage Message;
        public int EoiBroadcastVector;

        public PendingWork() => EoiBroadcastVector = -1;
    }
}
