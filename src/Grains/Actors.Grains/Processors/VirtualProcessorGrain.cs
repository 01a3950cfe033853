using Actors.Grains.Placement;
using Orleans.Runtime.Placement;

namespace Actors.Grains.Processors;

/// <summary>
/// One vCPU of a VM. The vCPU thread itself belongs to the VM's worker on its host; this grain sits on the
/// same silo so its calls stay local, and forwards to the worker.
/// </summary>
[HardwareColocatedPlacement]
public sealed class VirtualProcessorGrain(ILocalSiloDetails localSilo, IClusterMembershipService membership) : Grain, IVirtualProcessorGrain
{
    public Task FollowHardwareAsync(string host)
    {
        // A move to the silo we are on would only deactivate us (an in-grain MigrateOnIdle that stays put drops the activation).
        if (!string.Equals(host, localSilo.Name, StringComparison.Ordinal) && HostSilos.Find(membership.CurrentSnapshot, host) is { } silo)
        {
            RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
            this.MigrateOnIdle();
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }

        return Task.CompletedTask;
    }

    public async Task<VpStatus> GetStatusAsync(bool includeRegisters)
    {
        (int index, IVmWorkerGrain worker) = await WorkerAsync();
        return await worker.GetProcessorStatusAsync(index, includeRegisters);
    }

    public async Task PauseAsync()
    {
        (int index, IVmWorkerGrain worker) = await WorkerAsync();
        await worker.PauseProcessorAsync(index);
    }

    public async Task ResumeAsync()
    {
        (int index, IVmWorkerGrain worker) = await WorkerAsync();
        await worker.ResumeProcessorAsync(index);
    }

    /// <summary>
    /// Finds the VM's current host. If the VM now runs elsewhere (restarted on another host), this activation
    /// still answers but steps aside, so the next call is placed next to the new hardware.
    /// </summary>
    private async Task<(int Index, IVmWorkerGrain Worker)> WorkerAsync()
    {
        (string vm, int index) = VirtualProcessorKey.Parse(this.GetPrimaryKeyString());
        IReadOnlyList<VmStatus> vms = await GrainFactory.GetGrain<IVmCatalogGrain>(0).ListAsync();
        VmStatus status = vms.FirstOrDefault(v => v.Name == vm) ?? throw new HypervisorException($"no VM named '{vm}'");
        if (status.State is not (VmState.Running or VmState.Paused) || status.Host is null)
            throw new HypervisorException($"VM '{vm}' is {status.State}; start it first");
        if (!string.Equals(status.Host, localSilo.Name, StringComparison.Ordinal))
            this.DeactivateOnIdle();
        return (index, GrainFactory.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format(status.Host, vm)));
    }
}
