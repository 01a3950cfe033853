using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Worker;

/// <summary>
/// Runs a throwaway 1 MiB machine through both halves of a live migration's switch-over once: a
/// running guest is paused and snapshotted; a prepared machine receives its RAM, restores the snapshot
/// and starts. The first use of that path in a process costs milliseconds to hundreds of milliseconds
/// (JIT) and a switch-over pays it while the guest is stopped, so a host pays it at start.
/// </summary>
public static class SwitchOverWarmup
{
    public static void Run(IHypervisorBackend backend)
    {
        const ulong memory = 1UL << 20;
        const ulong code = 0x1000;
        using var source = VmWorker.CreateForRestore(backend, "warmup", memory, 1, console: null, onEnded: _ => { });
        // jmp $ in real mode at 0x1000: a vCPU that is in the guest when the pause comes, as a migrating one is.
        ReadOnlySpan<byte> jumpToSelf = [0xEB, 0xFE];
        jumpToSelf.CopyTo(source.Machine.Memory.Ram.Span(code, 2));
        IVirtualProcessor processor = source.Machine.Processors[0];
        processor.SetState(ProcessorStartupState.AfterStartupIpi(processor.GetState(), (byte)(code >> 12)));
        source.Start();
        source.Pause();
        byte[] snapshot = source.SaveSnapshot();

        using var target = VmWorker.CreateForRestore(backend, "warmup", memory, 1, console: null, onEnded: _ => { });
        target.PrepareThreads();
        ulong[] all = new ulong[target.Machine.DirtyPageWords];
        Array.Fill(all, ulong.MaxValue);
        foreach (GuestPageBatch batch in GuestPageTransfer.Read(source.Machine.Memory.Ram, all))
            GuestPageTransfer.Write(target.Machine.Memory.Ram, batch);
        target.RestoreSnapshot(snapshot);
        target.Start();
        target.Pause();
    }
}
