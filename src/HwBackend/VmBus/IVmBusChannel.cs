namespace Actors.HwBackend.VmBus;

/// <summary>
/// An open channel as a device (a VSP) uses it: packets the guest sent, and packets to the guest.
/// The device does not know where the rings are: in this process (<see cref="VmBusChannel"/>), or,
/// for a VSP on another silo than its VM, behind the VM's worker (<see cref="RelayedChannel"/>).
/// </summary>
public interface IVmBusChannel
{
    /// <summary>The channel's id on its bus (the offer's relid).</summary>
    uint Relid { get; }

    /// <summary>
    /// Takes the next packet the guest sent into <paramref name="packet"/>: its 16-byte descriptor,
    /// then the data at the offset the descriptor gives. Returns its length, 0 when there is none,
    /// or -1 when the channel cannot be used any more.
    /// </summary>
    int TryReceive(Span<byte> packet);

    /// <summary>Sends an in-band packet to the guest; false when it cannot go (the ring is full or broken, or the channel closed).</summary>
    bool TrySend(ulong transactionId, ReadOnlySpan<byte> data);

    /// <summary>
    /// Sends a packet of any kind: <paramref name="flags"/> (1: the guest is to answer with a
    /// completion), and a <paramref name="header"/> between the descriptor and the data, a multiple of
    /// 8 bytes (a transfer-page packet's page set and ranges; empty for the others). False when it
    /// cannot go, or when this channel carries in-band packets only.
    /// </summary>
    bool TrySend(VmBusPacketType type, ushort flags, ulong transactionId, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data);

    /// <summary>A complete GPADL the guest made for this channel (a buffer it lends the device besides the rings), or null.</summary>
    Gpadl? FindGpadl(uint handle);
}
