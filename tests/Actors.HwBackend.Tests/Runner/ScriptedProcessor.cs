using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Tests.Runner;

/// <summary>
/// A vCPU whose exits come from a test's script, so the run loop is tested without a CPU. Each
/// <see cref="Run"/> first honours a pending stop request, as real backends do.
/// </summary>
internal sealed class ScriptedProcessor(Func<ScriptedProcessor, VpExit> script) : IVirtualProcessor
{
    private volatile bool _stopRequested;
    private long _instructions;

    public int Index => 0;

    public ulong InstructionsRetired => (ulong)Interlocked.Read(ref _instructions);

    public ulong EventsDelivered => 0;

    public int RunCalls { get; private set; }

    public int StopRequests;

    public ulong LastPortInCompletion { get; private set; }

    public ulong LastMmioReadCompletion { get; private set; }

    public int PortInCompletions { get; private set; }

    public int InterruptWindowDisables { get; private set; }

    /// <summary>Signalled when <see cref="Run"/> is first entered, so other threads know the guest is "running".</summary>
    public ManualResetEventSlim Entered { get; } = new();

    public void Retire(long instructions) => Interlocked.Add(ref _instructions, instructions);

    public VpExit Run()
    {
        RunCalls++;
        Entered.Set();
        if (_stopRequested)
        {
            _stopRequested = false;
            return new VpExit(VpExitReason.StopRequested);
        }
        return script(this);
    }

    /// <summary>Behaves like a guest spinning without exits: retires instructions until asked to stop.</summary>
    public VpExit SpinUntilStopped()
    {
        // Retire before looking at the stop flag: a guest that was entered has run something,
        // even when the stop arrives before its first slice.
        do
        {
            Retire(1000);
            Thread.SpinWait(100);
        }
        while (!_stopRequested);
        _stopRequested = false;
        return new VpExit(VpExitReason.StopRequested);
    }

    public void CompletePortIn(ulong value)
    {
        LastPortInCompletion = value;
        PortInCompletions++;
    }

    public void CompleteMmioRead(ulong value) => LastMmioReadCompletion = value;

    public void RequestStop()
    {
        Interlocked.Increment(ref StopRequests);
        _stopRequested = true;
    }

    public VpState GetState() => new();

    public void SetState(VpState state)
    {
    }

    // The register groups are kept as written, so a loop that answers an exit through them can be checked.
    public GeneralRegisters GeneralRegisters;

    public SystemRegisters SystemRegisters;

    public GeneralRegisters GetGeneralRegisters() => GeneralRegisters;

    public void SetGeneralRegisters(in GeneralRegisters registers) => GeneralRegisters = registers;

    public SystemRegisters GetSystemRegisters() => SystemRegisters;

    public void SetSystemRegisters(in SystemRegisters registers) => SystemRegisters = registers;

    public void GetFpuState(Span<byte> fxsave) => fxsave.Clear();

    public void SetFpuState(ReadOnlySpan<byte> fxsave)
    {
    }

    public bool TryGetMsr(uint index, out ulong value)
    {
        value = 0;
        return false;
    }

    public bool TrySetMsr(uint index, ulong value) => false;

    public long TscOffset { get; set; }

    public ILocalInterruptController? InterruptController => null;

    public void InjectExternalInterrupt(byte vector)
    {
    }

    public bool InjectNmi() => true;

    public void RequestInterruptWindow(bool enable)
    {
        if (!enable)
            InterruptWindowDisables++;
    }

    public void AttachInterruptController(ILocalInterruptController controller)
    {
    }

    public void AttachSyntheticRegisters(ISyntheticRegisters registers)
    {
    }

    public void AttachUnimplementedSink(IUnimplementedSink sink)
    {
    }

    public void NotifyInterruptController()
    {
    }
}
