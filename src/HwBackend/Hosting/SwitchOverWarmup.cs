namespace Actors.HwBackend.Hosting;

/// <summary>
/// Runs save, encode, decode and restore once on a throwaway 1 MiB machine. The first use of that
/// path in a process costs hundreds of milliseconds (JIT, JSON metadata); a live migration's
/// switch-over pays it while the guest is stopped, so a host pays it at start instead.
/// </summary>
public static class RestorePathWarmup
{
    public static void Run(IHypervisorBackend backend)
    {
        const ulong memory = 1UL << 20;
        using var source = VirtualMachineHost.CreateForRestore(backend, "warmup", memory, 1, console: null, onEnded: _ => { });
        using var target = VirtualMachineHost.CreateForRestore(backend, "warmup", memory, 1, console: null, onEnded: _ => { });
        target.RestoreState(VirtualMachineStateCodec.Decode(VirtualMachineStateCodec.Encode(source.SaveState())));
    }
}
