using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>One VMBus channel: its relid, device, interface type and instance GUIDs, state, the VP its interrupts go to, its ring pages and where its VSP runs.</summary>
internal sealed record VmBusChannelView(
    uint Relid, string Device, Guid InterfaceType, Guid Instance, string State, uint? TargetVp, int RingPages, string ServedBy)
{
    public static VmBusChannelView From(VmBusChannelStatus c) =>
        new(c.Relid, c.Device, c.InterfaceType, c.Instance, c.State, c.TargetVp, c.RingPages, c.ServedBy);
}
