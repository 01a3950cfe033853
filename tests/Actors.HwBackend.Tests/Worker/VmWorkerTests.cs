using System.Diagnostics;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Tests.Guests;
using Actors.HwBackend.Tests.Snapshots;
using Actors.HwBackend.Worker;
using Xunit;

namespace Actors.HwBackend.Tests.Worker;

public sealed class VmWorkerTests
{
    private const ulong MemoryBytes = 64UL << 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("hello")]
    [InlineData("cpu-selftest")]
    public void BuiltGuestEndsWithItsExpectedStatusAndOutput(string name)
    {
        var console = new RecordingConsole();
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), name, File.ReadAllBytes(GuestImages.ImagePath(name)), MemoryBytes, 1, console, probe.OnEnded);

        host.Start();
        var ended = probe.Wait(Deadline);

        Assert.Equal("debug-exit", ended.Reason);
        Assert.Equal(GuestImages.ExpectedStatus(name), ended.ExitStatus);
        Assert.False(ended.Failed);
        Assert.True(ended.InstructionsRetired > 0);
        Assert.Equal(VmWorkerState.Stopped, host.State);
        Assert.Equal(GuestImages.ExpectedOutput(name), console.Bytes);
        Assert.Equal(console.Bytes.Length, host.ConsoleBytes);
        host.Stop();
        Assert.Equal(1, probe.Calls);
    }

    [Fact]
    public void ConsoleBatchesAreContiguousAndTheRingHoldsTheTail()
    {
        var console = new RecordingConsole();
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "selftest", File.ReadAllBytes(GuestImages.ImagePath("cpu-selftest")), MemoryBytes, 1, console, probe.OnEnded);

        host.Start();
        probe.Wait(Deadline);

        var batches = console.Batches;
        Assert.True(batches.Count > 1);
        long expected = 0;
        foreach (var (sequence, data) in batches)
        {
            Assert.Equal(expected, sequence);
            expected += data.Length;
        }
        var (recentSequence, recent) = host.ReadRecentOutput();
        Assert.Equal(0, recentSequence); // the whole output fits in the ring
        Assert.Equal(console.Bytes, recent);
    }

    [Fact]
    public void SecondaryProcessorsParkAndTheRunStillEnds()
    {
        var console = new RecordingConsole();
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "hello-smp", File.ReadAllBytes(GuestImages.ImagePath("hello")), MemoryBytes, 2, console, probe.OnEnded);

        host.Start();
        var ended = probe.Wait(Deadline);

        Assert.Equal(GuestImages.ExpectedStatus("hello"), ended.ExitStatus);
        Assert.Equal(2, host.ProcessorCount);
        Assert.Equal(0UL, host.GetProcessor(1, includeRegisters: false).InstructionsRetired);
        Assert.Equal(ended.InstructionsRetired, host.GetProcessor(0, includeRegisters: false).InstructionsRetired);
    }

    [Fact]
    public void PauseFreezesInstructionsAndResumeContinues()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 1, null, probe.OnEnded);
        host.Start();
        WaitFor(() => host.InstructionsRetired > 100_000, "the guest to run");

        host.Pause();
        Assert.Equal(VmWorkerState.Paused, host.State);
        ulong paused = host.InstructionsRetired;
        Thread.Sleep(20); // not synchronisation: a window in which a wrongly running vCPU would show
        Assert.Equal(paused, host.InstructionsRetired);
        Assert.True(host.GetProcessor(0, includeRegisters: false).ExitsByReason["stop-requested"] >= 1);
        var registers = host.GetProcessor(0, includeRegisters: true).State;
        Assert.NotNull(registers);
        Assert.Equal(paused, host.InstructionsRetired);

        host.Resume();
        Assert.Equal(VmWorkerState.Running, host.State);
        WaitFor(() => host.InstructionsRetired > paused + 100_000, "the guest to continue");

        host.Stop();
        Assert.Equal(VmWorkerState.Stopped, host.State);
        Assert.Equal(0, probe.Calls);
    }

    [Fact]
    public void TheSwitchOverWarmupRunsItsThrowawayMachineThroughPauseSaveRestoreAndStart()
    {
        // Hosts run it in the background and only log a failure, so a broken warm-up would go unseen.
        SwitchOverWarmup.Run(new EmulatorBackend());
    }

    [Fact]
    public void PreparedThreadsRunNothingUntilStartThenTheGuestRuns()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 2, null, probe.OnEnded);

        host.PrepareThreads();
        host.PrepareThreads(); // idempotent
        Thread.Sleep(30); // not synchronisation: a window in which a vCPU that ran too early would show
        Assert.Equal(VmWorkerState.Created, host.State);
        Assert.Equal(0UL, host.InstructionsRetired);
        Assert.Equal(0L, host.GuestTimeNanoseconds);
        Assert.NotNull(host.GetProcessor(0, includeRegisters: true).State);

        host.Start();
        WaitFor(() => host.InstructionsRetired > 100_000, "the guest to run");
        host.Stop();
        Assert.Equal(0, probe.Calls);
    }

    [Fact]
    public async Task PreparedThreadsOfAMachineNeverStartedLeaveOnStop()
    {
        var probe = new EndProbe();
        var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 2, null, probe.OnEnded);
        host.PrepareThreads();

        // Dispose joins the threads: it returns only if every prepared thread left.
        await Task.Run(host.Dispose).WaitAsync(Deadline);

        Assert.Equal(VmWorkerState.Stopped, host.State);
        Assert.Equal(0UL, host.InstructionsRetired);
        Assert.Equal(0, probe.Calls);
        Assert.ThrowsAny<InvalidOperationException>(host.Start);
    }

    [Fact]
    public void StopOnARunningGuestJoinsItsThreadsWithoutEndedCall()
    {
        var probe = new EndProbe();
        var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 2, null, probe.OnEnded);
        host.Start();
        WaitFor(() => host.InstructionsRetired > 10_000, "the guest to run");

        host.Stop();
        ulong stopped = host.InstructionsRetired;
        host.Stop(); // idempotent

        Assert.Equal(VmWorkerState.Stopped, host.State);
        Assert.Equal(stopped, host.InstructionsRetired);
        Assert.Equal(0, probe.Calls);
        host.Dispose();
        host.Dispose();
    }

    [Fact]
    public void RepeatedPauseResumeAndSnapshotsFromTwoThreadsStayConsistent()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 2, null, probe.OnEnded);
        host.Start();
        using var done = new CancellationTokenSource();
        long snapshots = 0;
        var reader = new Thread(() =>
        {
            while (!done.IsCancellationRequested)
            {
                Assert.NotNull(host.GetProcessor((int)(snapshots & 1), includeRegisters: true).State);
                snapshots++;
            }
        });
        reader.Start();

        for (int i = 0; i < 200; i++)
        {
            host.Pause();
            ulong paused = host.InstructionsRetired;
            Assert.Equal(paused, host.InstructionsRetired);
            host.Resume();
            host.PauseProcessor(i % 2);
            host.ResumeProcessor(i % 2);
        }
        done.Cancel();
        reader.Join();

        host.Stop();
        Assert.True(snapshots > 0);
        Assert.Equal(0, probe.Calls);
        Assert.Equal(VmWorkerState.Stopped, host.State);
    }

    [Fact]
    public void EndedCallbackMayDisposeTheHost()
    {
        VmWorker? host = null;
        using var disposed = new ManualResetEventSlim();
        host = VmWorker.Create(new EmulatorBackend(), "fault", HostGuests.TripleFault(), 16UL << 20, 2, null, _ =>
        {
            host!.Dispose();
            disposed.Set();
        });
        host.Start();

        Assert.True(disposed.Wait(Deadline));
        Assert.Equal(VmWorkerState.Stopped, host.State);
    }

    [Fact]
    public void StopWhilePausedWorks()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 1, null, probe.OnEnded);
        host.Start();
        host.Pause();

        host.Stop();

        Assert.Equal(VmWorkerState.Stopped, host.State);
        Assert.Equal(0, probe.Calls);
        host.Resume(); // a stopped VM stays stopped
        Assert.Equal(VmWorkerState.Stopped, host.State);
    }

    [Fact]
    public void StopBeforeStartMakesStartFail()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 1, null, probe.OnEnded);

        host.Stop();

        Assert.Equal(VmWorkerState.Stopped, host.State);
        Assert.ThrowsAny<InvalidOperationException>(host.Start);
    }

    [Fact]
    public void PauseProcessorParksOneVcpuAndResumeProcessorReleasesIt()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 1, null, probe.OnEnded);
        host.Start();
        WaitFor(() => host.InstructionsRetired > 10_000, "the guest to run");

        host.PauseProcessor(0);
        var snapshot = host.GetProcessor(0, includeRegisters: true);
        Assert.True(snapshot.Paused);
        Assert.NotNull(snapshot.State);
        Assert.Equal(VmWorkerState.Running, host.State); // the VM as a whole is not paused
        ulong parked = host.InstructionsRetired;
        Thread.Sleep(20); // not synchronisation: a window in which a wrongly running vCPU would show
        Assert.Equal(parked, host.InstructionsRetired);
        Assert.Equal(parked, snapshot.InstructionsRetired);

        host.ResumeProcessor(0);
        Assert.False(host.GetProcessor(0, includeRegisters: false).Paused);
        WaitFor(() => host.InstructionsRetired > parked + 100_000, "the vCPU to continue");
        Assert.Throws<ArgumentOutOfRangeException>(() => host.PauseProcessor(1));
    }

    [Fact]
    public void RegistersOfARunningVcpuAreReadWithoutStoppingIt()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 1, null, probe.OnEnded);
        host.Start();
        WaitFor(() => host.InstructionsRetired > 10_000, "the guest to run");

        var first = host.GetProcessor(0, includeRegisters: true).State;
        ulong after = host.InstructionsRetired;

        Assert.NotNull(first);
        Assert.InRange(first.Rip, HostGuests.LoadAddress, HostGuests.LoadAddress + 16);
        Assert.True(first.Gprs[0] > 0); // RAX counts loop iterations
        Assert.False(host.GetProcessor(0, includeRegisters: false).Paused);
        WaitFor(() => host.InstructionsRetired > after + 100_000, "the guest to keep running");
    }

    [Fact]
    public void SnapshotCountsExitsByReasonAndHypercallsGetInvalidCode()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "ports", HostGuests.PortWritesAndHypercall(25), 16UL << 20, 1, null, probe.OnEnded);
        host.Start();
        var ended = probe.Wait(Deadline);

        Assert.Equal(1, ended.ExitStatus); // (0 << 1) | 1: RAX came back as 2
        var snapshot = host.GetProcessor(0, includeRegisters: true);
        Assert.Equal(0, snapshot.Index);
        Assert.Equal(26, snapshot.ExitsByReason["port-out"]); // 25 to an unused port and one to isa-debug-exit
        Assert.Equal(1, snapshot.ExitsByReason["hypercall"]);
        Assert.Equal(0, snapshot.ExitsByReason["port-in"]);
        Assert.Equal(0, snapshot.ExitsByReason["mmio-read"]);
        Assert.Equal(0, snapshot.ExitsByReason["shutdown"]);
        Assert.Equal(ended.InstructionsRetired, snapshot.InstructionsRetired);
        Assert.NotNull(snapshot.State);
        Assert.Equal(25, host.Ports.UnhandledWrites);
    }

    [Fact]
    public void WhatTheGuestUsesThatIsNotImplementedIsCountedReportedOnceAndMigrates()
    {
        var reported = new List<UnimplementedUse>();
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "gaps", HostGuests.UnimplementedUses(msr: 0x140), 16UL << 20, 1, null, probe.OnEnded);
        host.UnimplementedUsed += reported.Add;
        host.Start();
        Assert.True(probe.Wait(Deadline).Failed); // the #GP had nowhere to go

        const ulong start = HostGuests.LoadAddress;
        UnimplementedUse[] expected =
        [
            new(UnimplementedKind.PortRead, HostGuests.UnusedPort, start, 2),
            new(UnimplementedKind.PortWrite, HostGuests.UnusedPort, start + 6, 1), // this backend has moved past an OUT when it exits
            new(UnimplementedKind.MsrRead, 0x140, start + 11, 1),
        ];
        Assert.Equal(expected, host.Unimplemented);
        // Reported the first time only, so the port read is reported with a count of one.
        Assert.Equal(expected.Select(u => u with { Count = 1 }), reported);
        Assert.Equal(0, host.UnimplementedOverflow);
    }

    [Fact]
    public void TheUnimplementedLogTravelsWithTheVm()
    {
        var reported = new List<UnimplementedUse>();
        using var host = VmWorker.Create(new EmulatorBackend(), "gap-move", HostGuests.PortReadsThenSpin(), 16UL << 20, 1, null, _ => { });
        host.Start();
        WaitFor(() => host.Unimplemented.Count == 1 && host.Unimplemented[0].Count == 2, "both port reads");
        host.Pause();

        // A restored copy (a migrated VM) lists the same and reports none of it again.
        using var copy = VmWorker.CreateForRestore(new EmulatorBackend(), "gap-moved", host.MemoryBytes, 1, null, _ => { });
        copy.UnimplementedUsed += reported.Add;
        copy.RestoreSnapshot(host.SaveSnapshot());
        Assert.Equal(host.Unimplemented, copy.Unimplemented);
        Assert.Empty(reported);
        host.Stop();
    }

    [Fact]
    public void AnEnlightenedMachineSavesItsHyperVStateAndOnlyAnEnlightenedOneTakesIt()
    {
        using var host = VmWorker.Create(new EmulatorBackend(), "hv-save", HostGuests.PortReadsThenSpin(), 16UL << 20, 2, null, _ => { }, enlightened: true);
        host.Start();
        WaitFor(() => host.Unimplemented.Count == 1, "the guest to run");
        host.Pause();
        byte[] saved = host.SaveSnapshot();
        Assert.Contains("hv", SnapshotSurgery.Sections(saved).Select(s => s.Id));
        Assert.Contains("synic/1", SnapshotSurgery.Sections(saved).Select(s => s.Id));
        Assert.Contains("stimer/1", SnapshotSurgery.Sections(saved).Select(s => s.Id));
        Assert.Contains("vmbus", SnapshotSurgery.Sections(saved).Select(s => s.Id));

        using var enlightened = VmWorker.CreateForRestore(new EmulatorBackend(), "hv-copy", host.MemoryBytes, 2, null, _ => { }, enlightened: true);
        enlightened.RestoreSnapshot(saved);
        using var plain = VmWorker.CreateForRestore(new EmulatorBackend(), "plain-copy", host.MemoryBytes, 2, null, _ => { });
        Assert.Contains("'hv'", Assert.Throws<SnapshotException>(() => plain.RestoreSnapshot(saved)).Message);
        host.Stop();
    }

    [Fact]
    public void AnUnimplementedInstructionIsLoggedByName()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "gap-insn", HostGuests.UnimplementedUses(msr: null), 16UL << 20, 1, null, probe.OnEnded);
        host.Start();
        Assert.True(probe.Wait(Deadline).Failed);

        UnimplementedUse instruction = Assert.Single(host.Unimplemented, u => u.Kind == UnimplementedKind.Instruction);
        Assert.Equal("instruction Fsin at 0x10000b, once", instruction.ToString());
    }

    [Fact]
    public void AnEnlightenedGuestCallsThroughItsHypercallPageAndGetsTlfsStatuses()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "hv-page", HostGuests.HypercallsThroughThePage(), 16UL << 20, 1, null, probe.OnEnded, enlightened: true);
        host.Start();
        VmRunEnded ended = probe.Wait(Deadline);
        Assert.True(ended.ExitStatus == 1, $"{ended.Reason} {ended.ExitStatus}"); // (0 << 1) | 1
        // Both calls were carried out inside the CPU's run loop, without an exit, and counted.
        Assert.Equal(0, host.GetProcessor(0, includeRegisters: false).ExitsByReason["hypercall"]);
        Assert.Equal(2, host.HypercallCounts().Sum(c => c.Count));
    }

    [Fact]
    public void TheHypercallPortBeforeTheGuestEnablesHypercallsIsAPortWithNothingBehindIt()
    {
        // An OUT to the hypercall port that is no call: the platform answers it as any port nobody claims (the write
        // vanishes, the log counts it), the guest goes on, and its later calls through the page work.
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "hv-port", HostGuests.HypercallPortBeforeEnabling(), 16UL << 20, 1, null, probe.OnEnded, enlightened: true);
        host.Start();
        VmRunEnded ended = probe.Wait(Deadline);
        Assert.True(ended.ExitStatus == 1, $"{ended.Reason} {ended.ExitStatus}"); // (0 << 1) | 1
        UnimplementedUse port = Assert.Single(host.Unimplemented, u => u.Kind == UnimplementedKind.PortWrite);
        Assert.Equal((HypercallConvention.Port, 1L), ((ushort)port.What, port.Count));
        Assert.Equal(1, host.HypercallCounts().Sum(c => c.Count));
    }

    [Fact]
    public void VmcallBeforeTheGuestEnablesHypercallsIsAnInvalidOpcode()
    {
        // Not enlightened, VMCALL at CPL 0 is answered with HV_STATUS_INVALID_HYPERCALL_CODE (see the port
        // exits test); enlightened, it is #UD until the hypercall page is on, and with no IDT that ends the guest.
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "hv-off", HostGuests.PortWritesAndHypercall(1), 16UL << 20, 1, null, probe.OnEnded, enlightened: true);
        host.Start();
        VmRunEnded ended = probe.Wait(Deadline);
        Assert.True(ended.Failed, ended.Reason);
        Assert.Equal(0, host.GetProcessor(0, includeRegisters: false).ExitsByReason["hypercall"]);
    }

    [Fact]
    public void ConsoleInputReachesTheGuest()
    {
        var console = new RecordingConsole();
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "echo", HostGuests.Echo(), 16UL << 20, 1, console, probe.OnEnded);

        host.SendConsoleInput("hi\n"u8);
        Assert.Equal(3, host.PendingConsoleInputBytes);
        host.Start();
        WaitFor(() => host.ConsoleBytes == 3, "the echo");
        Assert.Equal(0, host.PendingConsoleInputBytes);
        host.SendConsoleInput("ok\nq"u8);
        var ended = probe.Wait(Deadline);

        Assert.Equal("debug-exit", ended.Reason);
        Assert.Equal(1, ended.ExitStatus);
        Assert.Equal("hi\nok\n"u8.ToArray(), console.Bytes);
    }

    [Fact]
    public void MisprogrammedPlatformBehavesAsHardwareAndNothingIsLost()
    {
        var console = new RecordingConsole();
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "abuse", HostGuests.PlatformAbuse(), 16UL << 20, 1, console, probe.OnEnded);
        host.Start();
        var ended = probe.Wait(Deadline);

        Assert.Equal("debug-exit", ended.Reason);
        Assert.False(ended.Failed);
        Assert.Equal(Actors.HwBackend.Devices.Legacy.DebugExitDevice.ExitStatusFor(0), ended.ExitStatus);
        Assert.Equal(HostGuests.FloodBytes, console.Bytes.Length);
        Assert.All(console.Bytes, b => Assert.Equal((byte)'x', b));
    }

    [Fact]
    public void HaltedGuestStaysRunningWithItsVcpuParkedUntilStopped()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "halt", HostGuests.HaltForever(), 16UL << 20, 1, null, probe.OnEnded);
        host.Start();

        WaitFor(() => host.GetProcessor(0, includeRegisters: false).ExitsByReason["halt"] >= 1, "the HLT");
        ulong retired = host.InstructionsRetired;
        var registers = host.GetProcessor(0, includeRegisters: true);

        Assert.Equal(VmWorkerState.Running, host.State);
        Assert.NotNull(registers.State);
        Assert.True(registers.State!.Halted);
        Assert.Equal(retired, host.InstructionsRetired);
        Assert.Equal(1, host.GetProcessor(0, includeRegisters: false).ExitsByReason["halt"]);
        host.Stop();
        Assert.Equal(VmWorkerState.Stopped, host.State);
        Assert.Equal(0, probe.Calls);
    }

    [Fact]
    public void TripleFaultEndsTheRunAsFailed()
    {
        var probe = new EndProbe();
        using var host = VmWorker.Create(new EmulatorBackend(), "fault", HostGuests.TripleFault(), 16UL << 20, 1, null, probe.OnEnded);
        host.Start();

        var ended = probe.Wait(Deadline);

        Assert.Equal("triple fault", ended.Reason);
        Assert.True(ended.Failed);
        Assert.Equal(VmWorkerState.Stopped, host.State);
        host.Stop();
        Assert.Equal(1, probe.Calls);
    }

    [Fact]
    public void BadImageIsRefusedBeforeAnythingStarts()
    {
        var probe = new EndProbe();
        Assert.Throws<GuestImageException>(() => VmWorker.Create(new EmulatorBackend(), "bad", "not a kernel"u8, 16UL << 20, 1, null, probe.OnEnded));
        Assert.Throws<GuestImageException>(() => VmWorker.Create(new EmulatorBackend(), "empty", [], 16UL << 20, 1, null, probe.OnEnded));
        Assert.Equal(0, probe.Calls);
    }

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData((16UL << 20) + 512, 1)]
    [InlineData(16UL << 20, 0)]
    [InlineData(16UL << 20, -1)]
    public void BadSizesAreRefusedWithOneLineMessage(ulong memoryBytes, int processors)
    {
        var error = Assert.Throws<ArgumentException>(() => VmWorker.Create(new EmulatorBackend(), "bad", HostGuests.EndlessLoop(), memoryBytes, processors, null, _ => { }));
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ControlBeforeStartIsRefused()
    {
        using var host = VmWorker.Create(new EmulatorBackend(), "loop", HostGuests.EndlessLoop(), 16UL << 20, 1, null, _ => { });

        Assert.Equal(VmWorkerState.Created, host.State);
        Assert.Equal("loop", host.Name);
        Assert.Equal(16UL << 20, host.MemoryBytes);
        Assert.Throws<InvalidOperationException>(host.Pause);
        Assert.Throws<InvalidOperationException>(host.Resume);
        var snapshot = host.GetProcessor(0, includeRegisters: true);
        Assert.Equal(HostGuests.LoadAddress, snapshot.State!.Rip); // the loader's entry state
        Assert.All(snapshot.ExitsByReason.Values, count => Assert.Equal(0, count));
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Deadline)
                throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(1); // polling interval, not synchronisation: the condition decides
        }
    }
}
