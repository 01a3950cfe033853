namespace Actors.HwBackend.VmBus;

/// <summary>
/// A relayed channel as its VSP sees it, one per open (<see cref="Epoch"/>): the packets the guest
/// sent, as delivered, and the packets the device sends, kept until they are carried to the VM's
/// host. Used from one grain's turns, so it takes no locks.
/// </summary>
public sealed class RelayedChannel(uint relid, int epoch) : IVmBusChannel
{
    /// <summary>Packets a device may send between two deliveries; a well-behaved one waits for answers long before.</summary>
    public const int MaxUnsentPackets = 256;

    private readonly Queue<byte[]> _received = new();
    private readonly List<VmBusRelayPacket> _unsent = [];

    public uint Relid { get; } = relid;

    public int Epoch { get; } = epoch;

    public void Deliver(byte[] packet) => _received.Enqueue(packet);

    public int TryReceive(Span<byte> packet)
    {
        while (_received.TryDequeue(out byte[]? next))
        {
            // As a ring does: a packet longer than the reader's buffer is dropped, not left to stall the rest.
            if (next.Length > packet.Length)
                continue;
            next.CopyTo(packet);
            return next.Length;
        }
        return 0;
    }

    public bool TrySend(ulong transactionId, ReadOnlySpan<byte> data)
    {
        if (_unsent.Count >= MaxUnsentPackets)
            return false;
        _unsent.Add(new VmBusRelayPacket(transactionId, data.ToArray()));
        return true;
    }

    /// <summary>The relay carries in-band packets without a header; a device that needs more runs beside its VM.</summary>
    public bool TrySend(VmBusPacketType type, ushort flags, ulong transactionId, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data) =>
        type == VmBusPacketType.DataInband && flags == 0 && header.IsEmpty && TrySend(transactionId, data);

    /// <summary>The guest's GPADLs stay on the VM's host: a relayed device sees none.</summary>
    public Gpadl? FindGpadl(uint handle) => null;

    /// <summary>The packets sent since the last call, in order.</summary>
    public VmBusRelayPacket[] TakeUnsent()
    {
        VmBusRelayPacket[] packets = [.. _unsent];
        _unsent.Clear();
        return packets;
    }
}
