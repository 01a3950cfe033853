using System.Buffers.Binary;
using System.Diagnostics;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Tests.Guests;
using Actors.HwBackend.Tests.Worker;
using Actors.HwBackend.Worker;
using Xunit;

namespace Actors.HwBackend.Tests.Snapshots;

/// <summary>
/// Snapshots of whole machines that ran real guests: every section survives a restore into a fresh
/// machine bit for bit, and every kind of bad snapshot is refused with one line naming what is wrong,
/// leaving the target as it was and the source free to run on.
/// </summary>
public sealed class MachineSnapshotTests
{
    private const ulong SmallMemory = 16UL << 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    [Fact]
    public void EverySectionOfAMachineThatRanAGuestSurvivesARestoreBitForBit()
    {
        // The SMP guest on four vCPUs: APs started by INIT-SIPI, APIC timers and IPIs, the PIT, the 8259s and IOAPIC in use.
        var console = new RecordingConsole();
        var probe = new EndProbe();
        using var source = VmWorker.Create(new EmulatorBackend(), "smp", File.ReadAllBytes(GuestImages.ImagePath("smp")), 128UL << 20, 4, console, probe.OnEnded);
        source.Start();
        WaitFor(() => System.Text.Encoding.ASCII.GetString(console.Bytes).Contains("PASS ap-startup"), "the APs to start");
        source.Pause();
        Assert.Equal(VmWorkerState.Paused, source.State);
        source.SendConsoleInput("queued, never read"u8); // so the UART's receive queue is not empty
        byte[] saved = source.SaveSnapshot();

        using var target = VmWorker.CreateForRestore(new EmulatorBackend(), "smp-copy", source.MemoryBytes, source.ProcessorCount, console: null, onEnded: _ => { });
        target.RestoreSnapshot(saved);
        byte[] again = target.SaveSnapshot();

        string[] expected =
        [
            "machine", "clock", "pic", "pit", "port-b", "rtc", "uart", "fw-cfg", "reset", "i8042", "acpi-pm", "ioapic",
            "lapic/0", "lapic/1", "lapic/2", "lapic/3", "vcpu/0", "vcpu/1", "vcpu/2", "vcpu/3", "console", "unimplemented",
        ];
        Assert.Equal(expected, SnapshotSurgery.Sections(saved).Select(s => s.Id));
        // Every section at its first version, but the vCPUs': version 2 added IA32_TSC_ADJUST, version 3 the NMI
        // flags, version 4 the pending debug exceptions, version 5 IA32_SPEC_CTRL.
        Assert.All(SnapshotSurgery.Sections(saved), s => Assert.Equal(s.Id.StartsWith("vcpu/", StringComparison.Ordinal) ? 5 : 1, s.Version));
        Assert.Equal(saved, again);
        Assert.Equal(source.ConsoleBytes, target.ConsoleBytes);
        Assert.Equal(source.ReadRecentOutput().Sequence, target.ReadRecentOutput().Sequence);
        Assert.Equal(source.ReadRecentOutput().Bytes, target.ReadRecentOutput().Bytes);
        Assert.Equal(source.PendingConsoleInputBytes, target.PendingConsoleInputBytes);
        source.Stop();
    }

    public static TheoryData<string, string[]> Damages => new()
    {
        { "unknown-section", ["section 'vmbus/0'", "unknown"] },
        { "newer-section-version", ["section 'pit'", "version 2 is newer"] },
        { "missing-section", ["section 'rtc'", "missing"] },
        { "truncated-section", ["section 'lapic/1'", "truncated"] },
        { "bytes-left-over", ["section 'uart'", "left over"] },
        { "duplicate-section", ["section 'clock'", "twice"] },
        { "swapped-apics", ["section 'lapic/0'", "APIC 1"] },
        { "bad-interrupt-vector", ["section 'vcpu/1'", "pending interrupt 300"] },
        { "truncated-snapshot", ["truncated"] },
        { "bit-flip", ["integrity check failed"] },
        { "wrong-magic", ["not a machine snapshot"] },
        { "newer-format", ["format version 2 is newer"] },
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public void ABadSnapshotIsRefusedInOneLineTheTargetIsUntouchedAndTheSourceRunsOn(string damage, string[] fragments)
    {
        // Short: the OS keeps 15 characters of a thread's name, and "vcpu sbadt/0" must fit. The
        // cases run one after another, so a thread left over by an earlier one would show too.
        const string name = "sbad";
        using var source = StartLoop(name);
        source.Pause();
        byte[] snapshot = source.SaveSnapshot();
        byte[] damaged = Damage(snapshot, damage);

        var target = VmWorker.CreateForRestore(new EmulatorBackend(), name + "t", SmallMemory, 2, console: null, onEnded: _ => { });
        target.PrepareThreads(); // as a migration target does, before the snapshot arrives
        Assert.Equal(3, LiveThreads.Named($"vcpu {name}t/") + LiveThreads.Named($"timer {name}t"));
        byte[] before = target.SaveSnapshot();

        var refusal = Assert.Throws<SnapshotException>(() => target.RestoreSnapshot(damaged));

        foreach (string fragment in fragments)
            Assert.Contains(fragment, refusal.Message);
        Assert.DoesNotContain('\n', refusal.Message);
        Assert.Equal(before, target.SaveSnapshot()); // not half restored: exactly the empty machine it was

        GuestRam ram = target.Machine.Memory.Ram;
        target.Dispose();
        // Dispose joined the threads; the OS takes a moment more to take them out of /proc.
        WaitFor(() => LiveThreads.Named($"vcpu {name}t/") + LiveThreads.Named($"timer {name}t") == 0, "the target's threads to be gone");
        Assert.Throws<ObjectDisposedException>(() => ram.Span(0, 1).Length);

        // The source was only paused for the save: it carries on.
        ulong paused = source.InstructionsRetired;
        source.Resume();
        WaitFor(() => source.InstructionsRetired > paused + 100_000, "the source to run on");
    }

    [Fact]
    public void ASnapshotOfAnotherShapeOfMachineIsRefusedByItsVcpuCount()
    {
        using var source = StartLoop("shape");
        source.Pause();
        byte[] snapshot = source.SaveSnapshot();
        using var target = VmWorker.CreateForRestore(new EmulatorBackend(), "shape-t", SmallMemory, 1, console: null, onEnded: _ => { });

        var refusal = Assert.Throws<SnapshotException>(() => target.RestoreSnapshot(snapshot));

        Assert.Equal("snapshot section 'machine': the snapshot is of a machine with 2 vCPUs and 16 MiB; VM 'shape-t' has 1 vCPU and 16 MiB", refusal.Message);
    }

    [Fact]
    public void ATargetThatRefusedASnapshotStillTakesTheGoodOneAndRunsIt()
    {
        using var source = StartLoop("again");
        source.Pause();
        byte[] snapshot = source.SaveSnapshot();
        ulong sourceRax = source.GetProcessor(0, includeRegisters: true).State!.Gprs[0];
        using var target = VmWorker.CreateForRestore(new EmulatorBackend(), "again-t", SmallMemory, 2, console: null, onEnded: _ => { });
        target.PrepareThreads();
        CopyRam(source, target);

        Assert.Throws<SnapshotException>(() => target.RestoreSnapshot(Damage(snapshot, "missing-section")));
        target.RestoreSnapshot(snapshot);
        target.Start();

        // RAX counts the loop's iterations: the copy counts on from where the source stopped.
        WaitFor(() => target.InstructionsRetired > 100_000, "the restored guest to run");
        target.Pause();
        Assert.True(target.GetProcessor(0, includeRegisters: true).State!.Gprs[0] > sourceRax);
        Assert.Throws<InvalidOperationException>(() => target.RestoreSnapshot(snapshot));
    }

    [Fact]
    public void SavingARunningMachineOrRestoringTwiceIsRefusedAsAnInvalidOperation()
    {
        using var source = StartLoop("ops");
        Assert.Throws<InvalidOperationException>(() => source.SaveSnapshot());
        source.Pause();
        byte[] snapshot = source.SaveSnapshot();
        Assert.Throws<InvalidOperationException>(() => source.RestoreSnapshot(snapshot)); // already started

        using var target = VmWorker.CreateForRestore(new EmulatorBackend(), "ops-t", SmallMemory, 2, console: null, onEnded: _ => { });
        target.RestoreSnapshot(snapshot);
        Assert.Throws<InvalidOperationException>(() => target.RestoreSnapshot(snapshot));
    }

    /// <summary>One real snapshot, damaged one way; each way is refused for one reason.</summary>
    internal static byte[] Damage(byte[] snapshot, string damage)
    {
        var sections = SnapshotSurgery.Sections(snapshot);
        int Index(string id) => sections.FindIndex(s => s.Id == id);
        switch (damage)
        {
            case "unknown-section":
                sections.Add(("vmbus/0", 1, [1, 2, 3]));
                return SnapshotSurgery.Build(sections);
            case "newer-section-version":
                sections[Index("pit")] = sections[Index("pit")] with { Version = 2 };
                return SnapshotSurgery.Build(sections);
            case "missing-section":
                sections.RemoveAt(Index("rtc"));
                return SnapshotSurgery.Build(sections);
            case "truncated-section":
                sections[Index("lapic/1")] = sections[Index("lapic/1")] with { Payload = sections[Index("lapic/1")].Payload[..^1] };
                return SnapshotSurgery.Build(sections);
            case "bytes-left-over":
                sections[Index("uart")] = sections[Index("uart")] with { Payload = [.. sections[Index("uart")].Payload, 0] };
                return SnapshotSurgery.Build(sections);
            case "duplicate-section":
                sections.Add(sections[Index("clock")]);
                return SnapshotSurgery.Build(sections);
            case "swapped-apics":
                (sections[Index("lapic/0")], sections[Index("lapic/1")]) = (sections[Index("lapic/1")] with { Id = "lapic/0" }, sections[Index("lapic/0")] with { Id = "lapic/1" });
                return SnapshotSurgery.Build(sections);
            case "bad-interrupt-vector":
                // The vCPU section ends with the pending interrupt vector (an int32), IA32_TSC_ADJUST (an
                // int64), the NMI-pending and NMI-blocked flags (a byte each), the pending debug
                // exceptions and IA32_SPEC_CTRL (a uint64 each).
                byte[] vcpu = sections[Index("vcpu/1")].Payload;
                BinaryPrimitives.WriteInt32LittleEndian(vcpu.AsSpan(vcpu.Length - 30), 300);
                return SnapshotSurgery.Build(sections);
            case "truncated-snapshot":
                return snapshot[..^7];
            case "bit-flip":
                byte[] flipped = (byte[])snapshot.Clone();
                flipped[flipped.Length / 2] ^= 0x10;
                return flipped;
            case "wrong-magic":
                byte[] foreign = (byte[])snapshot.Clone();
                foreign[0] = (byte)'{';
                return foreign;
            case "newer-format":
                byte[] newer = (byte[])snapshot.Clone();
                BinaryPrimitives.WriteUInt16LittleEndian(newer.AsSpan(4), 2);
                SnapshotSurgery.Reseal(newer);
                return newer;
            default:
                throw new ArgumentOutOfRangeException(nameof(damage), damage, "no such damage");
        }
    }

    /// <summary>A two-vCPU machine counting in RAX on vCPU 0 (vCPU 1 waits for SIPI), running.</summary>
    private static VmWorker StartLoop(string name)
    {
        var source = VmWorker.Create(new EmulatorBackend(), name, HostGuests.EndlessLoop(), SmallMemory, 2, console: null, onEnded: _ => { });
        source.Start();
        WaitFor(() => source.InstructionsRetired > 100_000, "the guest to run");
        return source;
    }

    private static void CopyRam(VmWorker from, VmWorker to)
    {
        var all = new ulong[from.Machine.Memory.DirtyLog.WordCount];
        Array.Fill(all, ulong.MaxValue);
        foreach (var batch in GuestPageTransfer.Read(from.Machine.Memory.Ram, all))
            GuestPageTransfer.Write(to.Machine.Memory.Ram, batch);
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
