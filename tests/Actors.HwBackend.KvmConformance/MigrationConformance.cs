using System.Text;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Worker;

namespace Actors.HwBackend.KvmConformance;

/// <summary>
/// A running guest live-moved between backends in this process, KVM → software CPU → KVM, the way the
/// VM worker grains move one between hosts: RAM copied in pre-copy passes while the guest runs (KVM's dirty
/// log, then the software CPU's), then the guest paused, the last dirty pages and the machine's snapshot
/// copied, and the copy started. The guest is migrate-verify, which checks that every page it stamped before
/// still holds its stamp: it reports passes on each backend, then, asked to finish, checks every page once more.
/// </summary>
internal sealed class MigrationConformance(IHypervisorBackend kvm, string guestsDirectory)
{
    private const ulong MemoryBytes = 64UL << 20;
    private const int PreCopyPasses = 3;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private static readonly Dictionary<string, byte[]> Firmware = new()
    {
        ["opt/actors/passes"] = "0"u8.ToArray(),
        ["opt/actors/report-every"] = "1"u8.ToArray(),
    };

    public IEnumerable<(string Name, Func<string?> Check)> All()
    {
        yield return ("migrate-kvm-software-kvm", MoveThereAndBack);
    }

    private string? MoveThereAndBack()
    {
        byte[] image = File.ReadAllBytes(Path.Combine(guestsDirectory, "build", "migrate-verify.elf"));
        var console = new ConsoleCapture();
        using var ended = new RunEnd();
        VmWorker worker = VmWorker.Create(kvm, "mv", image, MemoryBytes, 1, console, ended.OnEnded, Firmware.AsReadOnly());
        try
        {
            worker.Start();
            foreach (IHypervisorBackend next in new[] { new EmulatorBackend(), kvm })
            {
                if (WaitForPasses(console, Passes(console) + 2) is { } stalled)
                    return $"on {worker.Machine.GetType().Name}: {stalled}";
                worker = Move(worker, next, console, ended);
            }

            if (WaitForPasses(console, Passes(console) + 2) is { } last)
                return $"back on KVM: {last}";
            worker.SendConsoleInput("q"u8);
            if (!ended.Wait(Deadline))
                return $"did not finish after 'q'; console: {console.Tail}";
            return ended.Last!.ExitStatus == 1 && console.Text.Contains(" passes ok\n", StringComparison.Ordinal)
                ? null
                : $"ended with status {ended.Last.ExitStatus?.ToString() ?? "none"} ({ended.Last.Reason}); console: {console.Tail}";
        }
        finally
        {
            worker.Dispose();
        }
    }

    /// <summary>Pre-copy, stop-and-copy, start: returns the running copy on <paramref name="backend"/> and disposes the source.</summary>
    private static VmWorker Move(VmWorker source, IHypervisorBackend backend, ConsoleCapture console, RunEnd ended)
    {
        VmWorker target = VmWorker.CreateForRestore(backend, "mv", MemoryBytes, 1, console, ended.OnEnded, Firmware.AsReadOnly());
        try
        {
            IVirtualMachine from = source.Machine;
            GuestRam to = target.Machine.Memory.Ram;
            ulong[] dirty = new ulong[from.DirtyPageWords];
            from.CollectDirtyPages(dirty); // re-arms tracking; the first pass sends everything anyway
            Array.Fill(dirty, ulong.MaxValue);
            Copy(from.Memory.Ram, to, dirty);
            for (int pass = 1; pass < PreCopyPasses; pass++)
            {
                from.CollectDirtyPages(dirty);
                Copy(from.Memory.Ram, to, dirty);
            }

            source.Pause();
            from.CollectDirtyPages(dirty);
            Copy(from.Memory.Ram, to, dirty);
            target.RestoreSnapshot(source.SaveSnapshot());
            source.Dispose();
            target.Start();
            return target;
        }
        catch
        {
            target.Dispose();
            throw;
        }
    }

    private static void Copy(GuestRam from, GuestRam to, ulong[] pages)
    {
        foreach (GuestPageBatch batch in GuestPageTransfer.Read(from, pages))
            GuestPageTransfer.Write(to, batch);
    }

    private static int Passes(ConsoleCapture console) =>
        console.Text.Split('\n').Count(l => l.StartsWith("pass ", StringComparison.Ordinal) && l.EndsWith(" ok", StringComparison.Ordinal));

    private static string? WaitForPasses(ConsoleCapture console, int passes)
    {
        if (SpinWait.SpinUntil(() => Passes(console) >= passes || console.Text.Contains("FAIL", StringComparison.Ordinal), Deadline) && !console.Text.Contains("FAIL", StringComparison.Ordinal))
            return null;
        return $"pass {passes} did not come; console: {console.Tail}";
    }
}
