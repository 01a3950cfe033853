using Orleans.Runtime.Placement;

namespace Actors.Grains.Placement;

/// <summary>
/// Resolves the host in the grain's key (a host name, or a <see cref="VmWorkerKey"/>) to the silo of that
/// name. Placement hints are ignored on purpose: a hardware grain anywhere but on its host would own nothing.
/// </summary>
public sealed class HostPinnedPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string host = VmWorkerKey.HostOf(target.GrainIdentity.Key.ToString()!);
        SiloAddress? silo = HostSilos.Find(membership.CurrentSnapshot, host, context.GetCompatibleSilos(target));
        return silo is not null
            ? Task.FromResult(silo)
            : throw new HypervisorException($"unknown host '{host}': no silo of that name is active in the cluster");
    }
}
