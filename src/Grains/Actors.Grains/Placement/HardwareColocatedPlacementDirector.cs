using Orleans.Runtime.Placement;

namespace Actors.Grains.Placement;

/// <summary>
/// Honours the caller's placement hint (the partition sets it when it first touches its processors), and
/// otherwise asks the VM catalog where the VM runs, so a processor activated by a client call still lands
/// on its hardware's silo.
/// </summary>
public sealed class HardwareColocatedPlacementDirector(IClusterMembershipService membership, IGrainFactory grains) : IPlacementDirector
{
    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        SiloAddress[] compatible = context.GetCompatibleSilos(target);
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hinted)
            return hinted;

        string? host = await HostOfVmAsync(target.GrainIdentity.Key.ToString()!);
        if (host is not null && HostSilos.Find(membership.CurrentSnapshot, host, compatible) is { } hostSilo)
            return hostSilo;

        return compatible.Contains(context.LocalSilo) ? context.LocalSilo : compatible[Random.Shared.Next(compatible.Length)];
    }

    /// <summary>The host of the VM a grain key names: "VM/INDEX" (a processor) or "VM" (a VSP).</summary>
    private async Task<string?> HostOfVmAsync(string key)
    {
        int slash = key.LastIndexOf('/');
        string vmName = slash < 0 ? key : key[..slash];
        IReadOnlyList<VmStatus> vms = await grains.GetGrain<IVmCatalogGrain>(0).ListAsync();
        return vms.FirstOrDefault(v => v.Name == vmName)?.Host;
    }
}
