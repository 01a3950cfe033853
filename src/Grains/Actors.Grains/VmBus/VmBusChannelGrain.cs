using Actors.Grains.Placement;
using Orleans.Concurrency;

namespace Actors.Grains.VmBus;

/// <summary>
/// One channel of a VM's VMBus in the cluster: a VSP grain on any silo sends to the guest through
/// it, and it hands the packets to the VM's worker, which owns the channel's rings in guest memory.
/// Placed next to the VM's hardware, so that the last hop is within a silo. Stateless and reentrant:
/// it only forwards.
/// </summary>
[HardwareColocatedPlacement]
[Reentrant]
public sealed class VmBusChannelGrain : Grain, IVmBusChannelGrain
{
    private (string VmName, uint Relid) Key
    {
        get
        {
            string key = this.GetPrimaryKeyString();
            int slash = key.LastIndexOf('/');
            return slash > 0 && uint.TryParse(key.AsSpan(slash + 1), out uint relid)
                ? (key[..slash], relid)
                : throw new HypervisorException($"'{key}' is not a VMBus channel key (expected VM/RELID)");
        }
    }

    public async Task<VmBusChannelStatus> GetStatusAsync()
    {
        (string vmName, uint relid) = Key;
        string host = await RunningHost.FindAsync(GrainFactory, vmName);
        VmBusStatus bus = await GrainFactory.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format(host, vmName)).GetVmBusStatusAsync();
        return bus.Channels.FirstOrDefault(c => c.Relid == relid)
            ?? throw new HypervisorException($"VM '{vmName}' has no VMBus channel {relid}");
    }

    public Task<int> SendAsync(string host, VmBusPackets packets)
    {
        (string vmName, uint relid) = Key;
        return GrainFactory.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format(host, vmName)).SendChannelPacketsAsync(relid, packets);
    }
}
