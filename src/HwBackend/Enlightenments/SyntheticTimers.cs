using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// One VP's four synthetic timers (TLFS, "Synthetic Timers"): STIMERn_CONFIG and STIMERn_COUNT in
/// reference time (100 ns units of the platform clock). A one-shot timer expires at the absolute
/// time in its count and then disables itself; a periodic one every count units from when it was
/// armed. On expiry it either posts a timer-expired message to its SINT through the VP's SynIC, or
/// (direct mode) raises its own vector at the local APIC. The platform's timer thread serves the
/// deadlines; the guest's register writes come from the vCPU thread, so both go under one lock,
/// and deliveries happen outside it.
/// </summary>
public sealed class SyntheticTimers : ITimedDevice
{
    public const int TimerCount = 4;

    private const ulong Enable = 1UL << 0;
    private const ulong Periodic = 1UL << 1;
    private const ulong AutoEnable = 1UL << 3;
    private const ulong DirectMode = 1UL << 12;
    private const int VectorShift = 4;
    private const int SintShift = 16;

    // Enable, periodic, lazy, auto-enable, vector 11:4, direct mode 12, SINTx 19:16.
    private const ulong ConfigBits = 0xF_1FFF;
    private const long NanosecondsPerReferenceTick = 100;

    // A timer message the SynIC cannot take yet (its pages off, its SINT's queue full) is tried again this much later.
    private const long RetryNanoseconds = 1_000_000;

    private readonly Lock _lock = new();
    private readonly IPlatformClock _clock;
    private readonly SyntheticInterruptController _synIc;
    private readonly ISintDelivery _apic;
    private readonly Action _deadlinesChanged;
    private readonly ulong[] _config = new ulong[TimerCount];
    private readonly ulong[] _count = new ulong[TimerCount];
    private readonly long[] _due = [long.MaxValue, long.MaxValue, long.MaxValue, long.MaxValue];

    /// <param name="deadlinesChanged">Tells the platform timer thread to plan again; called outside the lock.</param>
    public SyntheticTimers(IPlatformClock clock, SyntheticInterruptController synIc, ISintDelivery apic, Action deadlinesChanged)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(synIc);
        ArgumentNullException.ThrowIfNull(apic);
        ArgumentNullException.ThrowIfNull(deadlinesChanged);
        _clock = clock;
        _synIc = synIc;
        _apic = apic;
        _deadlinesChanged = deadlinesChanged;
    }

    public static bool OwnsMsr(uint index) => index is >= HvMsr.Stimer0Config and < HvMsr.Stimer0Config + 2 * TimerCount;

    public long? NextEventNanoseconds
    {
        get
        {
            lock (_lock)
            {
                long next = Math.Min(Math.Min(_due[0], _due[1]), Math.Min(_due[2], _due[3]));
                return next == long.MaxValue ? null : next;
            }
        }
    }

    public bool TryReadMsr(uint index, out ulong value)
    {
        (int timer, bool count) = Decode(index);
        lock (_lock)
            value = count ? _count[timer] : _config[timer];
        return true;
    }

    public bool TryWriteMsr(uint index, ulong value)
    {
        (int timer, bool count) = Decode(index);
        lock (_lock)
        {
            if (count)
            {
                // A count of zero stops the timer; with auto-enable, a non-zero count starts it.
                _count[timer] = value;
                if (value == 0)
                    _config[timer] &= ~Enable;
                else if ((_config[timer] & AutoEnable) != 0)
                    _config[timer] |= Enable;
            }
            else
            {
                bool direct = (value & DirectMode) != 0;
                if ((value & ~ConfigBits) != 0 || (direct && ((value >> VectorShift) & 0xFF) < 16))
                    return false;
                _config[timer] = value;
            }
            ArmLocked(timer, _clock.NowNanoseconds);
        }
        _deadlinesChanged();
        return true;
    }

    public void FireDue(long now)
    {
        Span<(int Timer, long Expiration)> expired = stackalloc (int, long)[TimerCount];
        int count = 0;
        lock (_lock)
        {
            for (int t = 0; t < TimerCount; t++)
            {
                if (_due[t] > now)
                    continue;
                expired[count++] = (t, _due[t]);
                if ((_config[t] & Periodic) != 0)
                {
                    // The next period in phase with the first; a timer that fell behind skips what it missed.
                    long period = Math.Max(1, (long)Math.Min(_count[t], long.MaxValue / 200) * NanosecondsPerReferenceTick);
                    long next = _due[t] + period;
                    if (next <= now)
                        next += ((now - next) / period + 1) * period;
                    _due[t] = next;
                }
                else
                {
                    _config[t] &= ~Enable;
                    _due[t] = long.MaxValue;
                }
            }
        }

        bool retry = false;
        for (int i = 0; i < count; i++)
            retry |= !Expire(expired[i].Timer, expired[i].Expiration, now);
        if (retry)
            _deadlinesChanged();
    }

    public SyntheticTimersState SaveState()
    {
        lock (_lock)
            return new SyntheticTimersState((ulong[])_config.Clone(), (ulong[])_count.Clone(), (long[])_due.Clone());
    }

    /// <summary>A problem that keeps <paramref name="state"/> from being restored here, or null.</summary>
    public static string? FindRestoreProblem(SyntheticTimersState state)
    {
        if (state.Config.Count != TimerCount || state.Count.Count != TimerCount || state.Due.Count != TimerCount)
            return $"not {TimerCount} timers";
        if (state.Config.Any(c => (c & ~ConfigBits) != 0))
            return "a timer's configuration has reserved bits set";
        return null;
    }

    /// <summary>Takes a saved state; deadlines are platform-clock times, which the clock's own restore keeps meaningful.</summary>
    public void RestoreState(SyntheticTimersState state)
    {
        lock (_lock)
        {
            for (int t = 0; t < TimerCount; t++)
                (_config[t], _count[t], _due[t]) = (state.Config[t], state.Count[t], state.Due[t]);
        }
    }

    private static (int Timer, bool Count) Decode(uint index)
    {
        int offset = (int)(index - HvMsr.Stimer0Config);
        return (offset / 2, offset % 2 == 1);
    }

    private void ArmLocked(int t, long now)
    {
        ulong config = _config[t];
        if ((config & Enable) == 0 || _count[t] == 0)
        {
            _due[t] = long.MaxValue;
            return;
        }
        long ticks = (long)Math.Min(_count[t], long.MaxValue / (ulong)NanosecondsPerReferenceTick);
        // Periodic: every count from now. One-shot: at the absolute reference time in count (now if that has passed).
        _due[t] = (config & Periodic) != 0 ? now + (ticks * NanosecondsPerReferenceTick) : Math.Max(ticks * NanosecondsPerReferenceTick, now);
    }

    /// <summary>Delivers one expiry; false when the SynIC could not take the message (it is tried again shortly).</summary>
    private bool Expire(int t, long expiration, long now)
    {
        ulong config;
        lock (_lock)
            config = _config[t];
        if ((config & DirectMode) != 0)
        {
            _apic.Deliver((byte)(config >> VectorShift));
            return true;
        }

        // HV_TIMER_MESSAGE_PAYLOAD: timer index, reserved, expiration time, delivery time (reference time).
        Span<byte> payload = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)t);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], (ulong)(expiration / NanosecondsPerReferenceTick));
        BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], (ulong)(now / NanosecondsPerReferenceTick));
        int sint = (int)((config >> SintShift) & 0xF);
        if (_synIc.TryPostMessage(sint, HvMessageType.TimerExpired, sender: 0, payload))
            return true;
        lock (_lock)
        {
            if (_due[t] == long.MaxValue)
                _due[t] = now + RetryNanoseconds;
        }
        return false;
    }
}
