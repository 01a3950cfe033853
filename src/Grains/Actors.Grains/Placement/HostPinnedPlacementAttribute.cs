using Orleans.Placement;

namespace Actors.Grains.Placement;

/// <summary>Pins a grain keyed by host name to that host's silo (see <see cref="HostPinnedPlacement"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class HostPinnedPlacementAttribute : PlacementAttribute
{
    public HostPinnedPlacementAttribute()
        : base(HostPinnedPlacement.Instance)
    {
    }
}
