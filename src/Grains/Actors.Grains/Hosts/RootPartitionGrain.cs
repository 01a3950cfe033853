using Actors.Grains.Placement;
using Orleans.Concurrency;
using Orleans.Placement;

namespace Actors.Grains.Hosts;

/// <summary>The root partition of a host: for now its inventory, which is what its hardware backend reports.</summary>
[HostPinnedPlacement]
[Immovable]
[Reentrant]
public sealed class RootPartitionGrain : Grain, IRootPartitionGrain
{
    public Task<HostInfo> GetInfoAsync() => GrainFactory.GetGrain<IHwBackendGrain>(this.GetPrimaryKeyString()).GetInfoAsync();
}
