using System.Text;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Tests.Emulation;
using Actors.HwBackend.Tests.Worker;
using Actors.HwBackend.Worker;
using Xunit;

namespace Actors.HwBackend.Tests.Guests;

/// <summary>
/// The guests written for QEMU's PC (interrupt controllers, timers, several CPUs, firmware tables)
/// give their expected output on the software CPU with the whole platform, as they do under QEMU.
/// </summary>
[Collection(TimingSensitiveCollection.Name)]
public sealed class PlatformGuestTests
{
    public static TheoryData<string, int> Guests
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var (name, processors) in GuestImages.Platform)
                data.Add(name, processors);
            return data;
        }
    }

    public static TheoryData<string, int, CpuTier> GuestsOnBothTiers
    {
        get
        {
            var data = new TheoryData<string, int, CpuTier>();
            foreach (var (name, processors) in GuestImages.Platform)
            {
                data.Add(name, processors, CpuTier.Interpreter);
                data.Add(name, processors, CpuTier.Translator);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(GuestsOnBothTiers))]
    public void Platform_guest_runs_on_the_software_cpu_to_its_expected_output(string name, int processors, CpuTier tier)
    {
        var (ended, output) = GuestImages.RunOnPlatform(name, processors, tier: tier);

        AssertSameOutput(name, output);
        Assert.Equal("debug-exit", ended.Reason);
        Assert.Equal(GuestImages.ExpectedStatus(name), ended.ExitStatus);
    }

    [Theory]
    [MemberData(nameof(Guests))]
    public void Platform_guest_under_qemu_gives_the_same_output(string name, int processors)
    {
        var (status, output) = GuestImages.RunOnQemu(name, processors);

        Assert.Equal(Encoding.ASCII.GetString(GuestImages.ExpectedOutput(name)), Encoding.ASCII.GetString(output));
        Assert.Equal(GuestImages.ExpectedStatus(name), status);
    }

    [Theory]
    [MemberData(nameof(GuestsOnBothTiers))]
    public void Platform_guest_saved_and_restored_mid_run_into_a_new_machine_continues_to_the_same_output(string name, int processors, CpuTier tier)
    {
        int restores = 0;
        RecordingConsole? console = null;
        var (ended, output) = GuestImages.RunOnPlatform(name, processors, (running, recording, probe) =>
        {
            // Let it get well into its checks (APs up, timers ticking), then move the whole machine.
            Thread.Sleep(150);
            running.Pause();
            // The bytes live migration sends, so the snapshot format is part of what is proven.
            byte[] snapshot = running.SaveSnapshot();
            console = recording;
            var copy = VmWorker.CreateForRestore(new EmulatorBackend(TestTiers.For(tier)), name + "-restored", running.MemoryBytes, running.ProcessorCount, recording, probe.OnEnded);
            copy.PrepareThreads(); // as a migration target does, before the state arrives
            CopyRam(running, copy);
            copy.RestoreSnapshot(snapshot);
            running.Stop();
            copy.Start();
            restores++;
            return (copy, probe);
        }, tier);

        Assert.Equal(1, restores);
        AssertSameOutput(name, output);
        long next = 0;
        foreach (var (sequence, data) in console!.Batches)
        {
            Assert.Equal(next, sequence); // the restored machine numbers its output on from the saved one
            next += data.Length;
        }
        Assert.Equal(GuestImages.ExpectedStatus(name), ended.ExitStatus);
    }

    /// <summary>Compares whole outputs and, when they differ, shows both in full: a guest's FAIL line says why.</summary>
    private static void AssertSameOutput(string name, byte[] output)
    {
        string expected = Encoding.ASCII.GetString(GuestImages.ExpectedOutput(name));
        string actual = Encoding.ASCII.GetString(output);
        if (expected != actual)
            Assert.Fail($"{name}: output differs from expected/{name}.out\n--- expected\n{expected}\n--- actual\n{actual}");
    }

    /// <summary>All RAM, through the page batches live migration sends (zero pages as numbers only).</summary>
    private static void CopyRam(VmWorker from, VmWorker to)
    {
        var all = new ulong[(from.Machine.Memory.Ram.PageCount + 63) / 64];
        Array.Fill(all, ulong.MaxValue);
        foreach (var batch in GuestPageTransfer.Read(from.Machine.Memory.Ram, all))
            GuestPageTransfer.Write(to.Machine.Memory.Ram, batch);
    }
}
