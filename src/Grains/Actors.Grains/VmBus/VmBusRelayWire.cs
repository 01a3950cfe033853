using Actors.HwBackend.VmBus;

namespace Actors.Grains.VmBus;

/// <summary>
/// A relayed channel's events and packets between the worker's types (<see cref="VmBusRelayEvent"/>,
/// <see cref="VmBusRelayPacket"/>) and the serializable ones that cross silos.
/// </summary>
internal static class VmBusRelayWire
{
    // The two event kinds are declared alike: one is the worker's, the other the wire's.
    public static VmBusChannelEvent[] ToWire(IEnumerable<VmBusRelayEvent> events) =>
        [.. events.Select(e => new VmBusChannelEvent((VmBusChannelEventKind)e.Kind, e.Epoch, e.Packet))];

    public static IEnumerable<VmBusRelayEvent> FromWire(IEnumerable<VmBusChannelEvent> events) =>
        events.Select(e => new VmBusRelayEvent((VmBusRelayEventKind)e.Kind, e.Epoch, e.Packet));

    public static VmBusPackets ToWire(int epoch, IEnumerable<VmBusRelayPacket> packets) =>
        new(epoch, [.. packets.Select(p => new VmBusPacket(p.TransactionId, p.Data))]);

    /// <summary>Writes a VSP's packets into the channel the relay serves; returns how many were written (see <see cref="VmBusRelay.Send"/>).</summary>
    public static int Send(VmBusRelay relay, VmBusPackets packets) =>
        relay.Send(packets.Epoch, [.. packets.Packets.Select(p => new VmBusRelayPacket(p.TransactionId, p.Data))]);
}
