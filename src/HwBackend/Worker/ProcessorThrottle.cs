namespace Actors.HwBackend.Worker;

/// <summary>
/// Takes a share of a VM's CPU time away (live migration's auto-converge, as QEMU's cpu-throttle):
/// in every 10 ms slice the vCPUs are parked for the throttled share and run for the rest. Guest
/// time keeps running while they are parked, so the guest simply gets less done, and dirties less.
/// One thread per throttled VM, only while the throttle is above zero.
/// </summary>
internal sealed class ProcessorThrottle(Action<bool> park, string machineName) : IDisposable
{
    private const int SliceMilliseconds = 10;

    private readonly object _lock = new();
    private int _percent;
    private bool _disposed;
    private Thread? _thread;

    public int Percent
    {
        get { lock (_lock) return _percent; }
    }

    /// <summary>0 (off) to 99: the share of each slice the vCPUs are parked.</summary>
    public void Set(int percent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 99);
        lock (_lock)
        {
            _percent = percent;
            if (percent > 0 && _thread is null && !_disposed)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = $"throttle {machineName}" };
                _thread.Start();
            }
            Monitor.PulseAll(_lock);
        }
    }

    public void Dispose()
    {
        Thread? thread;
        lock (_lock)
        {
            _disposed = true;
            thread = _thread;
            Monitor.PulseAll(_lock);
        }
        if (thread is not null && thread != Thread.CurrentThread)
            thread.Join();
    }

    private void Run()
    {
        while (true)
        {
            int percent;
            lock (_lock)
            {
                while (_percent == 0 && !_disposed)
                    Monitor.Wait(_lock);
                if (_disposed)
                    break;
                percent = _percent;
            }
            park(true);
            Thread.Sleep(SliceMilliseconds * percent / 100);
            park(false);
            Thread.Sleep(Math.Max(1, SliceMilliseconds * (100 - percent) / 100));
        }
        park(false);
    }
}
