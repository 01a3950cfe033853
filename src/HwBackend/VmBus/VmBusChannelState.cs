namespace Actors.HwBackend.VmBus;

/// <summary>
/// One offered channel as the guest left it: open or not, and if open, with which open id, ring
/// GPADL, target VP and the page where the host-to-guest ring starts within that GPADL.
/// </summary>
public sealed record VmBusChannelState(uint ChannelId, bool Open, uint OpenId, uint RingGpadl, uint TargetVp, uint DownstreamPageOffset)
{
    public static VmBusChannelState Closed(uint channelId) => new(channelId, false, 0, 0, 0, 0);
}
