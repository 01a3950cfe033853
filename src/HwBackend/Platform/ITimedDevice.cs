namespace Actors.HwBackend.Platform;

/// <summary>
/// A device with deadlines that the platform timer thread serves besides the PC's own timers
/// (the Hyper-V synthetic timers): it asks for the next deadline and calls back once it has passed.
/// Both calls come from the timer thread; the device tells the platform when its deadlines change.
/// </summary>
internal interface ITimedDevice
{
    /// <summary>The earliest armed deadline in platform-clock nanoseconds, or null when nothing is armed.</summary>
    long? NextEventNanoseconds { get; }

    /// <summary>Fires whatever is due at <paramref name="now"/> and arms what comes next.</summary>
    void FireDue(long now);
}
