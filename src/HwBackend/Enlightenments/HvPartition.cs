using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// The partition-wide half of the Hyper-V enlightenments (TLFS): the guest OS id, the hypercall
/// page, the reference time counter and reference TSC page, the reset MSR and the crash MSRs, and
/// each VP's assist page MSR (Linux sets one per CPU; nothing we advertise uses its contents).
/// One per VM, shared by its <see cref="HvProcessor"/>s; any vCPU thread may call it, so it locks.
/// Backend-independent: it writes its pages through the partition's memory map.
/// </summary>
public sealed class HvPartition
{
    private const ulong EnableBit = 1;
    private const ulong PageMask = ~0xFFFUL;

    // HV_X64_MSR_HYPERCALL bits 11:1 and HV_X64_MSR_REFERENCE_TSC bits 11:1 are reserved but preserved.
    private const ulong PreservedBits = 0xFFE;

    // HV_X64_MSR_CRASH_CTL: bit 63 "crash notify", the one capability we offer and the bit that reports a crash.
    private const ulong CrashNotify = 1UL << 63;

    // The reference TSC page (TLFS, "Partition Reference TSC Mechanism"): reference time in 100 ns
    // units = (TSC × scale) >> 64 + offset, so scale = 2^64 / (TSC ticks per 100 ns).
    private const ulong NanosecondsPerReferenceTick = 100;
    private const long ReferenceTicksPerSecond = 10_000_000;

    private readonly Lock _lock = new();
    private readonly GuestPhysicalMap _memory;
    private readonly IPlatformClock _clock;
    private readonly Action<string> _requestReset;
    private readonly ulong[] _crashParameters = new ulong[5];
    private readonly ulong[] _vpAssistPages;
    private readonly long _tscHz;
    private readonly ulong _referenceTscScale;
    private ulong _guestOsId;
    private ulong _hypercall;
    private ulong _referenceTsc;
    private ulong _crashControl;
    private ulong _tscInvariantControl;

    /// <param name="tscHz">
    /// The rate the guest's TSC runs at on the backend that runs it (the software CPU's, or the host's under KVM):
    /// what HV_X64_MSR_TSC_FREQUENCY reports and the reference TSC page's scale is made from.
    /// </param>
    /// <param name="requestReset">Called (on the vCPU thread) when the guest writes the reset MSR.</param>
    public HvPartition(GuestPhysicalMap memory, IPlatformClock clock, int processorCount, long tscHz, Action<string> requestReset)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(processorCount);
        // At 10 MHz or less a reference tick (100 ns) is one TSC tick or less, and the scale would not fit 64 bits.
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(tscHz, ReferenceTicksPerSecond);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(requestReset);
        _memory = memory;
        _clock = clock;
        _requestReset = requestReset;
        _vpAssistPages = new ulong[processorCount];
        _tscHz = tscHz;
        _referenceTscScale = (ulong)(((UInt128)1 << 64) * (ulong)ReferenceTicksPerSecond / (ulong)tscHz);
    }

    public const string ResetReason = "Hyper-V reset MSR";

    public bool HypercallsEnabled
    {
        // Read on every hypercall, so without the lock: the MSR is one aligned 64-bit word, written under it.
        get => (Volatile.Read(ref _hypercall) & EnableBit) != 0;
    }

    /// <summary>The crash parameters P0-P4 the guest reported with crash notify, or null if it reported none.</summary>
    public IReadOnlyList<ulong>? CrashReport
    {
        get { lock (_lock) return (_crashControl & CrashNotify) != 0 ? (ulong[])_crashParameters.Clone() : null; }
    }

    /// <summary>Reference time (TIME_REF_COUNT): 100 ns units of guest time since the partition started.</summary>
    public ulong ReferenceTime => (ulong)_clock.NowNanoseconds / NanosecondsPerReferenceTick;

    public bool TryReadMsr(uint vp, uint index, out ulong value)
    {
        lock (_lock)
        {
            switch (index)
            {
                case HvMsr.VpAssistPage: value = _vpAssistPages[vp]; return true;
                case HvMsr.GuestOsId: value = _guestOsId; return true;
                case HvMsr.Hypercall: value = _hypercall; return true;
                case HvMsr.TimeRefCount: value = ReferenceTime; return true;
                case HvMsr.ReferenceTsc: value = _referenceTsc; return true;
                case HvMsr.TscFrequency: value = (ulong)_tscHz; return true;
                case HvMsr.ApicFrequency: value = (ulong)Devices.Apic.LocalApic.TimerFrequencyHz; return true;
                case HvMsr.Reset: value = 0; return true;
                case >= HvMsr.CrashP0 and <= HvMsr.CrashP4: value = _crashParameters[index - HvMsr.CrashP0]; return true;
                case HvMsr.CrashControl: value = CrashNotify; return true; // the capabilities we offer
                case HvMsr.TscInvariantControl: value = _tscInvariantControl; return true;
                default: value = 0; return false;
            }
        }
    }

    public bool TryWriteMsr(uint vp, uint index, ulong value)
    {
        bool reset = false;
        lock (_lock)
        {
            switch (index)
            {
                case HvMsr.VpAssistPage:
                    if ((value & EnableBit) != 0 && !_memory.IsRam(value & PageMask, GuestRam.PageSize))
                        return false;
                    _vpAssistPages[vp] = value & (PageMask | EnableBit);
                    break;
                case HvMsr.GuestOsId:
                    _guestOsId = value;
                    // Without a guest OS id there is no hypercall interface (TLFS).
                    if (value == 0)
                        _hypercall &= ~EnableBit;
                    break;
                case HvMsr.Hypercall:
                    if (!TrySetHypercallLocked(value))
                        return false;
                    break;
                case HvMsr.ReferenceTsc:
                    if (!TrySetReferenceTscLocked(value))
                        return false;
                    break;
                case HvMsr.Reset:
                    reset = (value & EnableBit) != 0;
                    break;
                case >= HvMsr.CrashP0 and <= HvMsr.CrashP4:
                    _crashParameters[index - HvMsr.CrashP0] = value;
                    break;
                case HvMsr.CrashControl:
                    if ((value & ~CrashNotify) != 0)
                        return false;
                    _crashControl = value;
                    break;
                case HvMsr.TscInvariantControl:
                    if ((value & ~EnableBit) != 0)
                        return false;
                    _tscInvariantControl = value;
                    break;
                default:
                    // TIME_REF_COUNT and the frequencies are read-only.
                    return false;
            }
        }
        if (reset)
            _requestReset(ResetReason);
        return true;
    }

    public HvPartitionState SaveState()
    {
        lock (_lock)
            return new HvPartitionState(_guestOsId, _hypercall, _referenceTsc, (ulong[])_crashParameters.Clone(), _crashControl, _tscInvariantControl, (ulong[])_vpAssistPages.Clone());
    }

    /// <summary>Takes a saved state; the pages it names are already in the restored RAM.</summary>
    public void RestoreState(HvPartitionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
        {
            (_guestOsId, _hypercall, _referenceTsc, _crashControl, _tscInvariantControl) =
                (state.GuestOsId, state.Hypercall, state.ReferenceTsc, state.CrashControl, state.TscInvariantControl);
            for (int i = 0; i < _crashParameters.Length; i++)
                _crashParameters[i] = state.CrashParameters[i];
            for (int i = 0; i < _vpAssistPages.Length; i++)
                _vpAssistPages[i] = state.VpAssistPages[i];
        }
    }

    /// <summary>A problem that keeps <paramref name="state"/> from being restored into this partition, or null.</summary>
    public string? FindRestoreProblem(HvPartitionState state)
    {
        if (state.CrashParameters.Count != _crashParameters.Length)
            return $"{state.CrashParameters.Count} crash parameters, not {_crashParameters.Length}";
        if (state.VpAssistPages.Count != _vpAssistPages.Length)
            return $"VP assist pages for {state.VpAssistPages.Count} VPs; the partition has {_vpAssistPages.Length}";
        if ((state.Hypercall & EnableBit) != 0 && !_memory.IsRam(state.Hypercall & PageMask, GuestRam.PageSize))
            return $"the hypercall page at 0x{state.Hypercall & PageMask:x} is not RAM";
        if ((state.ReferenceTsc & EnableBit) != 0 && !_memory.IsRam(state.ReferenceTsc & PageMask, GuestRam.PageSize))
            return $"the reference TSC page at 0x{state.ReferenceTsc & PageMask:x} is not RAM";
        return null;
    }

    private bool TrySetHypercallLocked(ulong value)
    {
        bool enable = (value & EnableBit) != 0 && _guestOsId != 0;
        ulong page = value & PageMask;
        // The page overlays RAM here: a guest that points it anywhere else gets #GP, not a write outside its memory.
        if (enable && !_memory.IsRam(page, GuestRam.PageSize))
            return false;
        _hypercall = page | (value & PreservedBits) | (enable ? EnableBit : 0);
        if (enable)
            _memory.Write(page, HypercallConvention.PageCode);
        return true;
    }

    private bool TrySetReferenceTscLocked(ulong value)
    {
        bool enable = (value & EnableBit) != 0;
        ulong page = value & PageMask;
        if (enable && !_memory.IsRam(page, GuestRam.PageSize))
            return false;
        _referenceTsc = page | (value & PreservedBits) | (enable ? EnableBit : 0);
        if (enable)
        {
            // TscSequence (non-zero: valid), reserved, TscScale, TscOffset. Every vCPU's TSC is the
            // platform clock in TSC ticks unless the guest writes it, so the offset is zero.
            Span<byte> header = stackalloc byte[24];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header, 1);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(header[8..], _referenceTscScale);
            _memory.Write(page, header);
        }
        return true;
    }
}
