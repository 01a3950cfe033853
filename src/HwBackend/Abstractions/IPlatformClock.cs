namespace Actors.HwBackend.Abstractions;

/// <summary>
/// The machine's virtual time. Timer devices derive their counters from it instead of the host
/// clock so a paused, restored or single-stepped guest sees time that only moves when it runs.
/// </summary>
public interface IPlatformClock
{
    /// <summary>Monotonic nanoseconds since an arbitrary, machine-defined origin.</summary>
    long NowNanoseconds { get; }
}
