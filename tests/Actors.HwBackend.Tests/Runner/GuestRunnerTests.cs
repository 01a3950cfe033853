using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Platform;
using Actors.HwBackend.Runner;
using Xunit;

namespace Actors.HwBackend.Tests.Runner;

public sealed class GuestRunnerTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(30);

    [Fact]
    public void DebugExitEndsTheRunWithItsStatus()
    {
        using var machine = ScriptedMachine.Playing(
            new VpExit(VpExitReason.PortOut, Address: 0x80, Size: 1, Data: 0x42),
            new VpExit(VpExitReason.PortOut, Address: 0xF4, Size: 4, Data: 0x10),
            new VpExit(VpExitReason.Shutdown));
        var runner = NewRunner(machine);

        var result = runner.Run();

        Assert.Equal(GuestRunOutcome.DebugExit, result.Outcome);
        Assert.Equal(0x21, result.ExitStatus);
        Assert.Equal(2, result.Exits);
        Assert.Equal(2, machine.Processor.RunCalls); // the guest never ran again after the exit request
        Assert.Equal(0, machine.Processor.StopRequests); // same thread: no kick needed
    }

    [Fact]
    public void PortReadsAreAnsweredFromTheBus()
    {
        using var machine = ScriptedMachine.Playing(new VpExit(VpExitReason.PortIn, Address: 0x3FD, Size: 1));
        var runner = NewRunner(machine, out var ports);
        ports.Register(Uart16550.Com1Port, Uart16550.PortCount, new Uart16550(), "com1");

        runner.Run();

        Assert.Equal(0x60UL, machine.Processor.LastPortInCompletion);
    }

    [Fact]
    public void UnclaimedPortReadsFloatHigh()
    {
        using var machine = ScriptedMachine.Playing(new VpExit(VpExitReason.PortIn, Address: 0x71, Size: 2));
        var runner = NewRunner(machine, out var ports);

        runner.Run();

        Assert.Equal(0xFFFFUL, machine.Processor.LastPortInCompletion);
        Assert.Equal(1, ports.UnhandledReads);
    }

    [Theory]
    [InlineData(1, 0xFFUL)]
    [InlineData(2, 0xFFFFUL)]
    [InlineData(4, 0xFFFF_FFFFUL)]
    [InlineData(8, ulong.MaxValue)]
    public void MmioReadsWithoutADeviceReturnAllOnes(byte size, ulong expected)
    {
        using var machine = ScriptedMachine.Playing(
            new VpExit(VpExitReason.MmioRead, Address: 0xFEE0_0030, Size: size),
            new VpExit(VpExitReason.MmioWrite, Address: 0xFEE0_00B0, Size: 4, Data: 0),
            new VpExit(VpExitReason.MmioWrite, Address: 0xFEC0_0000, Size: 4, Data: 1));
        var runner = NewRunner(machine);

        var result = runner.Run();

        Assert.Equal(expected, machine.Processor.LastMmioReadCompletion);
        Assert.Equal(1, result.UnhandledMmioReads);
        Assert.Equal(2, result.UnhandledMmioWrites);
    }

    [Fact]
    public void HaltWithoutInterruptSourcesStopsTheGuestForGood()
    {
        using var machine = ScriptedMachine.Playing();
        var result = NewRunner(machine).Run();

        Assert.Equal(GuestRunOutcome.Halted, result.Outcome);
        Assert.Null(result.ExitStatus);
        Assert.Contains("stopped for good", result.Message);
    }

    [Fact]
    public void TripleFaultIsReported()
    {
        using var machine = ScriptedMachine.Playing(new VpExit(VpExitReason.Shutdown));

        Assert.Equal(GuestRunOutcome.TripleFault, NewRunner(machine).Run().Outcome);
    }

    [Fact]
    public void InternalErrorCarriesTheBackendsMessage()
    {
        using var machine = ScriptedMachine.Playing(new VpExit(VpExitReason.InternalError, Message: "unsupported instruction 0F 0B"));

        var result = NewRunner(machine).Run();

        Assert.Equal(GuestRunOutcome.InternalError, result.Outcome);
        Assert.Equal("unsupported instruction 0F 0B", result.Message);
    }

    [Fact]
    public void HypercallWithoutHandlerIsAnUnsupportedExit()
    {
        using var machine = ScriptedMachine.Playing(new VpExit(VpExitReason.Hypercall));

        Assert.Equal(GuestRunOutcome.UnsupportedExit, NewRunner(machine).Run().Outcome);
    }

    [Fact]
    public void PortExitWithAnImpossibleSizeIsAnInternalError()
    {
        using var machine = ScriptedMachine.Playing(new VpExit(VpExitReason.PortOut, Address: 0x80, Size: 3));

        var result = NewRunner(machine).Run();

        Assert.Equal(GuestRunOutcome.InternalError, result.Outcome);
        Assert.Contains("size 3", result.Message);
    }

    [Fact]
    public void InterruptWindowExitsAreSwitchedOffAndTheGuestContinues()
    {
        using var machine = ScriptedMachine.Playing(new VpExit(VpExitReason.InterruptWindow), new VpExit(VpExitReason.Shutdown));

        var result = NewRunner(machine).Run();

        Assert.Equal(GuestRunOutcome.TripleFault, result.Outcome);
        Assert.Equal(1, machine.Processor.InterruptWindowDisables);
    }

    [Fact]
    public void StopFromAnotherThreadKicksTheRunningGuest()
    {
        using var machine = new ScriptedMachine(p => p.SpinUntilStopped());
        var runner = NewRunner(machine, new GuestRunnerOptions { TimeBudget = Safety });
        var stopper = new Thread(() =>
        {
            machine.Processor.Entered.Wait(Safety);
            runner.RequestStop();
        });
        stopper.Start();

        var result = runner.Run();
        stopper.Join();

        Assert.Equal(GuestRunOutcome.Stopped, result.Outcome);
        Assert.True(machine.Processor.StopRequests >= 1);
        Assert.True(result.InstructionsRetired > 0);
    }

    [Fact]
    public void GuestExitRequestedFromAnotherThreadAlsoKicks()
    {
        using var machine = new ScriptedMachine(p => p.SpinUntilStopped());
        var runner = NewRunner(machine, new GuestRunnerOptions { TimeBudget = Safety });
        var other = new Thread(() =>
        {
            machine.Processor.Entered.Wait(Safety);
            runner.RequestGuestExit(7);
        });
        other.Start();

        var result = runner.Run();
        other.Join();

        Assert.Equal(GuestRunOutcome.DebugExit, result.Outcome);
        Assert.Equal(7, result.ExitStatus);
    }

    [Fact]
    public void CancellationStopsTheRun()
    {
        using var machine = new ScriptedMachine(p => p.SpinUntilStopped());
        var runner = NewRunner(machine, new GuestRunnerOptions { TimeBudget = Safety });
        using var cancellation = new CancellationTokenSource();
        var canceller = new Thread(() =>
        {
            machine.Processor.Entered.Wait(Safety);
            cancellation.Cancel();
        });
        canceller.Start();

        var result = runner.Run(cancellation.Token);
        canceller.Join();

        Assert.Equal(GuestRunOutcome.Stopped, result.Outcome);
    }

    [Fact]
    public void StopRequestedBeforeTheRunEndsItAtOnce()
    {
        using var machine = new ScriptedMachine(p => p.SpinUntilStopped());
        var runner = NewRunner(machine);

        runner.RequestStop();
        var result = runner.Run();

        Assert.Equal(GuestRunOutcome.Stopped, result.Outcome);
        Assert.Equal(0, machine.Processor.RunCalls);
    }

    [Fact]
    public void TimeBudgetEndsAGuestThatNeverExits()
    {
        using var machine = new ScriptedMachine(p => p.SpinUntilStopped());
        var runner = NewRunner(machine, new GuestRunnerOptions { TimeBudget = TimeSpan.FromMilliseconds(50) });

        var result = runner.Run();

        Assert.Equal(GuestRunOutcome.TimeBudgetExhausted, result.Outcome);
        Assert.True(result.Elapsed >= TimeSpan.FromMilliseconds(50), $"stopped after {result.Elapsed}");
    }

    [Fact]
    public void InstructionBudgetIsCheckedAtEveryExit()
    {
        using var machine = new ScriptedMachine(p =>
        {
            p.Retire(100);
            return new VpExit(VpExitReason.PortOut, Address: 0x80, Size: 1);
        });
        var runner = NewRunner(machine, new GuestRunnerOptions { InstructionBudget = 10_000, TimeBudget = Safety });

        var result = runner.Run();

        Assert.Equal(GuestRunOutcome.InstructionBudgetExhausted, result.Outcome);
        Assert.Equal(10_000UL, result.InstructionsRetired);
        Assert.Equal(100, result.Exits);
    }

    [Fact]
    public void InstructionBudgetAlsoEndsAGuestThatNeverExits()
    {
        using var machine = new ScriptedMachine(p => p.SpinUntilStopped());
        var runner = NewRunner(machine, new GuestRunnerOptions { InstructionBudget = 50_000, TimeBudget = Safety });

        var result = runner.Run();

        Assert.Equal(GuestRunOutcome.InstructionBudgetExhausted, result.Outcome);
        Assert.True(result.InstructionsRetired >= 50_000);
    }

    [Fact]
    public void EachRunStartsWithACleanSlate()
    {
        int calls = 0;
        using var machine = new ScriptedMachine(p =>
        {
            p.Retire(10);
            return ++calls == 1
                ? new VpExit(VpExitReason.PortOut, Address: 0xF4, Size: 1, Data: 2)
                : new VpExit(VpExitReason.Shutdown);
        });
        var runner = NewRunner(machine);

        var first = runner.Run();
        var second = runner.Run();

        Assert.Equal(GuestRunOutcome.DebugExit, first.Outcome);
        Assert.Equal(GuestRunOutcome.TripleFault, second.Outcome);
        Assert.Equal(10UL, second.InstructionsRetired); // counted per run
    }

    [Fact]
    public void RunningTwiceAtOnceIsRefused()
    {
        using var machine = new ScriptedMachine(p => p.SpinUntilStopped());
        var runner = NewRunner(machine, new GuestRunnerOptions { TimeBudget = Safety });
        Exception? second = null;
        var other = new Thread(() =>
        {
            machine.Processor.Entered.Wait(Safety);
            second = Record.Exception(() => runner.Run());
            runner.RequestStop();
        });
        other.Start();

        runner.Run();
        other.Join();

        Assert.IsType<InvalidOperationException>(second);
    }

    [Fact]
    public void ExitHandlingDoesNotAllocatePerExit()
    {
        long few = AllocatedDuringRun(1_000);
        long many = AllocatedDuringRun(101_000);

        // A run allocates a handful of objects (result, registrations); 100,000 more exits add nothing.
        Assert.True(many - few < 1024, $"{few} bytes for 1,000 exits, {many} bytes for 101,000");
    }

    private static long AllocatedDuringRun(int exits)
    {
        int count = 0;
        var inExit = new VpExit(VpExitReason.PortIn, Address: 0x3FD, Size: 1);
        var outExit = new VpExit(VpExitReason.PortOut, Address: 0x3F8, Size: 1, Data: 'a');
        var mmio = new VpExit(VpExitReason.MmioRead, Address: 0xFEE0_0030, Size: 4);
        var done = new VpExit(VpExitReason.PortOut, Address: 0xF4, Size: 4, Data: 0);
        using var machine = new ScriptedMachine(p =>
        {
            p.Retire(1);
            int n = count++;
            return n >= exits ? done : (n % 3) switch { 0 => inExit, 1 => outExit, _ => mmio };
        });
        var runner = NewRunner(machine, out var ports, new GuestRunnerOptions { TimeBudget = Safety, InstructionBudget = ulong.MaxValue - 1 });
        ports.Register(Uart16550.Com1Port, Uart16550.PortCount, new Uart16550(), "com1");
        runner.Run(); // warm up: JIT and first-use allocations
        count = 0;

        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = runner.Run();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(GuestRunOutcome.DebugExit, result.Outcome);
        return allocated;
    }

    private static GuestRunner NewRunner(ScriptedMachine machine, GuestRunnerOptions? options = null) => NewRunner(machine, out _, options);

    private static GuestRunner NewRunner(ScriptedMachine machine, out IoPortBus ports, GuestRunnerOptions? options = null)
    {
        ports = new IoPortBus();
        var runner = new GuestRunner(machine, ports, options);
        ports.Register(DebugExitDevice.DefaultPort, DebugExitDevice.PortCount, new DebugExitDevice(runner.RequestGuestExit), "isa-debug-exit");
        return runner;
    }
}
