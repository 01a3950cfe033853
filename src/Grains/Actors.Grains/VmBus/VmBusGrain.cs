using Actors.Grains.Placement;

namespace Actors.Grains.VmBus;

/// <summary>
/// A VM's VMBus in the cluster. The engine runs in the VM's worker, where the guest's hypercalls
/// arrive without a grain call; this grain finds the worker through the partition and asks it.
/// Stateless: any activation answers the same.
/// </summary>
[HardwareColocatedPlacement]
public sealed class VmBusGrain : Grain, IVmBusGrain
{
    public async Task<VmBusStatus> GetStatusAsync()
    {
        string vmName = this.GetPrimaryKeyString();
        string host = await RunningHost.FindAsync(GrainFactory, vmName);
        return await GrainFactory.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format(host, vmName)).GetVmBusStatusAsync();
    }
}
