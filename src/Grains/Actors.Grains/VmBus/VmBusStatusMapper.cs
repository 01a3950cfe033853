using Actors.HwBackend.VmBus;

namespace Actors.Grains.VmBus;

/// <summary>Words a worker's VMBus state for <see cref="VmBusStatus"/>.</summary>
internal static class VmBusStatusMapper
{
    /// <param name="servedBy">Where the VSP of the channel with that relid runs.</param>
    /// <param name="offers">The devices on the bus, by relid - 1.</param>
    public static VmBusStatus ToStatus(string host, IReadOnlyList<VmBusOffer> offers, VmBusState state, Func<uint, string> servedBy)
    {
        var channels = new List<VmBusChannelStatus>(offers.Count);
        for (int i = 0; i < offers.Count; i++)
        {
            uint relid = (uint)i + 1;
            VmBusChannelState? channel = state.Channels.FirstOrDefault(c => c.ChannelId == relid);
            bool open = channel is { Open: true };
            string where = (state.Releasing ?? []).Contains(relid) ? "releasing"
                : (state.Withdrawn ?? []).Contains(relid) ? "withdrawn"
                : open ? "open"
                : state.Connected ? "offered"
                : "not offered yet (the guest has not connected)";
            int ringPages = open ? state.Gpadls.FirstOrDefault(g => g.Handle == channel!.RingGpadl)?.Pages.Length ?? 0 : 0;
            channels.Add(new VmBusChannelStatus(relid, offers[i].Name, offers[i].InterfaceType, offers[i].InterfaceInstance, where, open ? channel!.TargetVp : null, ringPages, servedBy(relid)));
        }
        string? version = state.Connected ? $"{state.Version >> 16}.{state.Version & 0xFFFF}" : null;
        return new VmBusStatus(host, state.Connected, version, channels);
    }
}
