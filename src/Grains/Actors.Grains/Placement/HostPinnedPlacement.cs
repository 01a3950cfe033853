namespace Actors.Grains.Placement;

/// <summary>
/// Places a grain keyed by host name on the silo whose <c>SiloOptions.SiloName</c> is that host name, and
/// nowhere else: hardware cannot move, so an unknown or absent host is an error rather than a fallback.
/// </summary>
[GenerateSerializer]
[Immutable]
[SuppressReferenceTracking]
[Alias("Actors.HostPinnedPlacement")]
public sealed class HostPinnedPlacement : PlacementStrategy
{
    public static HostPinnedPlacement Instance { get; } = new();
}
