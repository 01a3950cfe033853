namespace Actors.Grains.VmBus;

/// <summary>Where a VM runs, as its partition knows it, for grains that reach the VM's worker.</summary>
internal static class RunningHost
{
    /// <exception cref="HypervisorException">The VM is not running (or paused) anywhere.</exception>
    public static async Task<string> FindAsync(IGrainFactory grains, string vmName)
    {
        VmStatus status = await grains.GetGrain<IPartitionGrain>(vmName).GetStatusAsync();
        return status is { State: VmState.Running or VmState.Paused, Host: { } host }
            ? host
            : throw new HypervisorException($"VM '{vmName}' is not running");
    }
}
