using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="Pit8254"/>, for save/restore and live migration.</summary>
/// <param name="Irq0Level">The level last driven onto IRQ 0.</param>
/// <param name="TicksSinceLastIrq0Edge">Input clocks since the channel 0 rising edge last delivered, or null if none counts.</param>
/// <param name="Irq0PendingTicks">Channel 0 edges owed to the guest and not yet raised (the tick backlog); 0 in states saved before it existed.</param>
/// <param name="Irq0AwaitingAcknowledge">An IRQ 0 edge was raised and no interrupt controller has reported it acknowledged.</param>
public sealed record Pit8254State(
    Pit8254ChannelState Channel0,
    Pit8254ChannelState Channel1,
    Pit8254ChannelState Channel2,
    bool Irq0Level,
    long? TicksSinceLastIrq0Edge,
    int Irq0PendingTicks = 0,
    bool Irq0AwaitingAcknowledge = false) : ISnapshotSection<Pit8254State>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        ArgumentNullException.ThrowIfNull(Channel0);
        ArgumentNullException.ThrowIfNull(Channel1);
        ArgumentNullException.ThrowIfNull(Channel2);
        Channel0.Write(writer);
        Channel1.Write(writer);
        Channel2.Write(writer);
        writer.WriteBoolean(Irq0Level);
        writer.WriteBoolean(TicksSinceLastIrq0Edge.HasValue);
        writer.WriteInt64(TicksSinceLastIrq0Edge.GetValueOrDefault());
        writer.WriteInt32(Irq0PendingTicks);
        writer.WriteBoolean(Irq0AwaitingAcknowledge);
    }

    public static Pit8254State Read(ref SnapshotSectionReader reader, ushort version)
    {
        var channel0 = Pit8254ChannelState.Read(ref reader, version);
        var channel1 = Pit8254ChannelState.Read(ref reader, version);
        var channel2 = Pit8254ChannelState.Read(ref reader, version);
        bool irq0Level = reader.ReadBoolean();
        bool edgeCounts = reader.ReadBoolean();
        long sinceEdge = reader.ReadInt64();
        int pendingTicks = reader.ReadInt32();
        bool awaitingAcknowledge = reader.ReadBoolean();
        return new Pit8254State(channel0, channel1, channel2, irq0Level, edgeCounts ? sinceEdge : null, pendingTicks, awaitingAcknowledge);
    }
}
