using System.Diagnostics;
using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Platform;

/// <summary>
/// A machine's virtual time: the host's monotonic clock while the machine runs, frozen while it is
/// paused, and settable so a restored or migrated machine continues from the time it was saved at.
/// Every timer device and every vCPU's TSC of one machine read the same clock, which is what keeps
/// the TSC consistent across vCPUs and across save/restore.
/// </summary>
public sealed class PlatformClock : IPlatformClock
{
    private readonly Lock _lock = new();

    // While running: now = host nanoseconds + _offset. While frozen: now = _frozenAt.
    private long _offset;
    private long _frozenAt;
    private volatile bool _frozen;

    /// <summary>A clock at zero, running or (<paramref name="frozen"/>) waiting for <see cref="Thaw"/>.</summary>
    public PlatformClock(bool frozen = false)
    {
        _offset = -HostNanoseconds();
        _frozen = frozen;
    }

    public long NowNanoseconds
    {
        get
        {
            if (_frozen)
                return Volatile.Read(ref _frozenAt);
            return HostNanoseconds() + Volatile.Read(ref _offset);
        }
    }

    public bool IsFrozen => _frozen;

    /// <summary>Stops time (the machine is paused or being saved). Idempotent.</summary>
    public void Freeze()
    {
        lock (_lock)
        {
            if (_frozen)
                return;
            Volatile.Write(ref _frozenAt, HostNanoseconds() + _offset);
            _frozen = true;
        }
    }

    /// <summary>Lets time run again from where it stopped. Idempotent.</summary>
    public void Thaw()
    {
        lock (_lock)
        {
            if (!_frozen)
                return;
            Volatile.Write(ref _offset, _frozenAt - HostNanoseconds());
            _frozen = false;
        }
    }

    /// <summary>Sets the current time (a restore); the clock keeps its frozen or running state.</summary>
    public void Set(long nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nanoseconds);
        lock (_lock)
        {
            Volatile.Write(ref _frozenAt, nanoseconds);
            Volatile.Write(ref _offset, nanoseconds - HostNanoseconds());
        }
    }

    /// <summary>The host's monotonic clock in nanoseconds.</summary>
    public static long HostNanoseconds()
    {
        long ticks = Stopwatch.GetTimestamp();
        return Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * (1_000_000_000.0 / Stopwatch.Frequency));
    }
}
