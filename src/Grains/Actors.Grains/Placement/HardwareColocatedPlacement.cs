namespace Actors.Grains.Placement;

/// <summary>
/// Places a per-VM grain (a virtual processor, a VSP) on the silo that runs its VM's hardware: the silo named in
/// the placement hint if the caller gave one, else the VM's host from the VM catalog, else the local silo.
/// </summary>
[GenerateSerializer]
[Immutable]
[SuppressReferenceTracking]
[Alias("Actors.HardwareColocatedPlacement")]
public sealed class HardwareColocatedPlacement : PlacementStrategy
{
    public static HardwareColocatedPlacement Instance { get; } = new();
}
