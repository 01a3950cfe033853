using Orleans.Placement;

namespace Actors.Grains.Placement;

/// <summary>Places a grain keyed "VM/INDEX" or "VM" next to its VM's hardware (see <see cref="HardwareColocatedPlacement"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class HardwareColocatedPlacementAttribute : PlacementAttribute
{
    public HardwareColocatedPlacementAttribute()
        : base(HardwareColocatedPlacement.Instance)
    {
    }
}
