namespace Actors.HwBackend.VmBus;

/// <summary>What happened on a relayed channel, for the VSP that serves it from elsewhere.</summary>
public enum VmBusRelayEventKind
{
    /// <summary>The guest opened the channel; a new <see cref="VmBusRelayEvent.Epoch"/> begins.</summary>
    Opened,

    /// <summary>The guest sent a packet (its descriptor, then its data).</summary>
    Packet,

    /// <summary>The guest closed the channel.</summary>
    Closed,
}

/// <summary>
/// One thing that happened on a relayed channel. <paramref name="Epoch"/> counts the channel's
/// opens on its VM's host, so that packets a VSP meant for an earlier open are not written into the
/// next one's ring.
/// </summary>
public sealed record VmBusRelayEvent(VmBusRelayEventKind Kind, int Epoch, byte[]? Packet = null);

/// <summary>A packet a VSP sends to the guest over a relayed channel.</summary>
public readonly record struct VmBusRelayPacket(ulong TransactionId, byte[] Data);
