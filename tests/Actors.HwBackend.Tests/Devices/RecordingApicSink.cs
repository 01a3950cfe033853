using Actors.HwBackend.Devices.Apic;

namespace Actors.HwBackend.Tests.Devices;

/// <summary>Counts what a local APIC tells its owner; thread-safe so concurrency tests can share it.</summary>
internal sealed class RecordingApicSink : ILocalApicSink
{
    private int _interruptRequests;
    private int _timerProgrammed;
    private int _nmiRequests;

    public int NmiRequests => Volatile.Read(ref _nmiRequests);

    /// <summary>What <see cref="NmiRequested"/> answers: false plays a processor whose NMI latch is full.</summary>
    public bool LatchesNmis { get; set; } = true;

    public bool NmiRequested()
    {
        Interlocked.Increment(ref _nmiRequests);
        return LatchesNmis;
    }

    public int InterruptRequests => Volatile.Read(ref _interruptRequests);

    public int TimerProgrammedCount => Volatile.Read(ref _timerProgrammed);

    public void InterruptRequested() => Interlocked.Increment(ref _interruptRequests);

    public void TimerProgrammed() => Interlocked.Increment(ref _timerProgrammed);
}
