using System.Runtime.InteropServices;

namespace Actors.HwBackend.Platform;

/// <summary>
/// The one thread per machine that makes time-driven device events happen: it sleeps until the
/// earliest deadline any timer device reports (PIT channel 0, each local APIC timer, the RTC), then
/// lets the devices raise their interrupts. Devices count from the platform clock, not from these
/// wake-ups, so a late wake-up delays an interrupt but never makes a timer drift. While the clock is
/// frozen (the machine is paused) nothing is due and the thread sleeps until rescheduled.
/// </summary>
internal sealed partial class PlatformTimer : IDisposable
{
    // Monitor.Wait sleeps in whole milliseconds; the last stretch before a deadline uses
    // nanosleep, which wakes late by the kernel's timer slack plus the host's own latency
    // (about 115 µs on our CI VMs). Like KVM's lapic_timer_advance, the thread sleeps that much
    // less, learnt as it goes, and spins the rest, so timers fire within microseconds.
    private const long CoarseWaitMarginNs = 2_000_000;
    private const long MaxSleepAdvanceNs = 500_000;

    private readonly object _lock = new();
    private readonly PlatformClock _clock;
    private readonly Func<long, long?> _nextDeadline;
    private readonly Action<long> _fireDue;
    private readonly Thread _thread;
    private bool _rescheduled;
    private volatile bool _disposed;

    // How early to wake before a deadline: a moving average of how late nanosleep returns.
    private long _sleepAdvanceNs = 100_000;

    /// <param name="nextDeadline">Given the clock's time, the earliest device deadline, or null when nothing is armed.</param>
    /// <param name="fireDue">Given the clock's time, brings every device whose deadline has passed up to date.</param>
    public PlatformTimer(PlatformClock clock, Func<long, long?> nextDeadline, Action<long> fireDue, string machineName)
    {
        _clock = clock;
        _nextDeadline = nextDeadline;
        _fireDue = fireDue;
        _thread = new Thread(ThreadMain) { IsBackground = true, Name = $"timer {machineName}" };
    }

    /// <summary>Times fired devices; for tests and diagnostics.</summary>
    public long Firings { get; private set; }

    public void Start() => _thread.Start();

    /// <summary>A deadline may have moved earlier (a guest programmed a timer, or the clock thawed). Any thread.</summary>
    public void Reschedule()
    {
        lock (_lock)
        {
            _rescheduled = true;
            Monitor.PulseAll(_lock);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Monitor.PulseAll(_lock);
        }
        if (_thread.IsAlive && _thread != Thread.CurrentThread)
            _thread.Join();
    }

    private void ThreadMain()
    {
        // The deadline the thread last slept towards. Devices report their *next* event, which
        // moves on as soon as the clock passes an edge, so reaching the target is what fires.
        long? target = null;
        while (!_disposed)
        {
            long now = _clock.NowNanoseconds;
            if (target is long due && now >= due && !_clock.IsFrozen)
            {
                _fireDue(now);
                Firings++;
                target = null;
                continue;
            }
            target = _clock.IsFrozen ? null : _nextDeadline(now);
            long remaining = target is long d ? d - now : long.MaxValue;
            if (remaining <= 0)
                continue;
            if (remaining <= CoarseWaitMarginNs)
            {
                SleepUntil(target!.Value, remaining);
                continue;
            }
            lock (_lock)
            {
                if (_disposed)
                    return;
                if (!_rescheduled)
                {
                    if (remaining == long.MaxValue)
                        Monitor.Wait(_lock);
                    else
                        Monitor.Wait(_lock, (int)Math.Min(int.MaxValue, (remaining - CoarseWaitMarginNs / 2) / 1_000_000));
                }
                _rescheduled = false;
                if (_disposed)
                    return;
            }
        }
    }

    /// <summary>Sleeps until shortly before <paramref name="deadline"/>, then spins to it (a few tens of microseconds).</summary>
    private void SleepUntil(long deadline, long remaining)
    {
        long sleep = remaining - _sleepAdvanceNs;
        if (sleep > 0)
        {
            long before = _clock.NowNanoseconds;
            Nanosleep(sleep);
            long overshoot = _clock.NowNanoseconds - before - sleep;
            // Learn slowly; one descheduled wake-up (milliseconds on a busy host) must not make the thread spin for long.
            _sleepAdvanceNs = Math.Clamp(_sleepAdvanceNs + (overshoot - _sleepAdvanceNs) / 8, 0, MaxSleepAdvanceNs);
        }
        var spin = new SpinWait();
        while (_clock.NowNanoseconds < deadline && !_clock.IsFrozen && !_disposed)
            spin.SpinOnce(sleep1Threshold: -1);
    }

    private static void Nanosleep(long nanoseconds)
    {
        if (!OperatingSystem.IsLinux())
        {
            Thread.Sleep(TimeSpan.FromTicks(Math.Max(1, nanoseconds / 100)));
            return;
        }
        var request = new Timespec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };
        _ = NativeNanosleep(in request, IntPtr.Zero);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "nanosleep")]
    private static partial int NativeNanosleep(in Timespec request, IntPtr remaining);
}
