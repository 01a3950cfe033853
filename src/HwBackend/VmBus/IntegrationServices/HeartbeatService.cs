using System.Buffers.Binary;

namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>
/// The host's end of the heartbeat integration service. When the guest opens the channel it offers
/// framework and heartbeat version 3.0 (NEGOTIATE); once the guest agrees, every <see cref="Beat"/>
/// sends a sequence number that a live guest (Linux's hv_utils) returns incremented. What comes
/// back is checked: a packet too short, not a response, or with the wrong number is ignored.
/// </summary>
public sealed class HeartbeatService : IVmBusDevice
{
    private const int NegotiateBodyBytes = 16; // two counts, reserved, then one framework and one message version
    private const int HeartbeatBodyBytes = 40; // the sequence number and 32 reserved bytes
    private const int MaxPacketBytes = 256;

    private readonly Lock _lock = new();
    private readonly byte[] _packet = new byte[MaxPacketBytes];
    private VmBusChannel? _channel;
    private ulong _sequence;
    private ulong _transaction;

    /// <summary>Whether the guest agreed on versions; until then there is nobody to beat for.</summary>
    public bool Negotiated { get; private set; }

    /// <summary>Heartbeats the guest answered correctly since the channel opened.</summary>
    public long Answers { get; private set; }

    public void Opened(VmBusChannel channel)
    {
        lock (_lock)
        {
            (_channel, Negotiated, Answers) = (channel, false, 0);
            Span<byte> message = stackalloc byte[IcMessage.BodyOffset + NegotiateBodyBytes];
            IcMessage.WriteRequestHeader(message, IcMessage.Negotiate, NegotiateBodyBytes, transactionId: 0);
            Span<byte> body = message[IcMessage.BodyOffset..];
            BinaryPrimitives.WriteUInt16LittleEndian(body, 1); // framework versions
            BinaryPrimitives.WriteUInt16LittleEndian(body[2..], 1); // heartbeat versions
            BinaryPrimitives.WriteUInt16LittleEndian(body[8..], 3); // framework 3.0
            BinaryPrimitives.WriteUInt16LittleEndian(body[12..], 3); // heartbeat 3.0
            channel.TrySend(++_transaction, message);
        }
    }

    public void Signalled(VmBusChannel channel)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(channel, _channel))
                return;
            int length;
            while ((length = channel.TryReceive(_packet)) > 0)
            {
                int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(_packet.AsSpan(2)) * 8;
                Span<byte> message = _packet.AsSpan(dataOffset, length - dataOffset);
                if (message.Length < IcMessage.BodyOffset || !IcMessage.IsResponse(message))
                    continue;
                if (IcMessage.Type(message) == IcMessage.Negotiate && !Negotiated)
                {
                    Negotiated = IcMessage.Status(message) == 0;
                    if (Negotiated)
                        BeatLocked();
                }
                else if (IcMessage.Type(message) == IcMessage.Heartbeat && message.Length >= IcMessage.BodyOffset + HeartbeatBodyBytes
                    && BinaryPrimitives.ReadUInt64LittleEndian(message[IcMessage.BodyOffset..]) == _sequence + 1)
                {
                    Answers++;
                }
            }
        }
    }

    public void Closed()
    {
        lock (_lock)
            (_channel, Negotiated) = (null, false);
    }

    /// <summary>Asks the guest for a heartbeat; false when the channel is not open and negotiated, or its ring is full.</summary>
    public bool Beat()
    {
        lock (_lock)
            return BeatLocked();
    }

    private bool BeatLocked()
    {
        if (_channel is not { } channel || !Negotiated)
            return false;
        _sequence += 2; // the guest's answers are odd, our requests even
        Span<byte> message = stackalloc byte[IcMessage.BodyOffset + HeartbeatBodyBytes];
        IcMessage.WriteRequestHeader(message, IcMessage.Heartbeat, HeartbeatBodyBytes, transactionId: 0);
        BinaryPrimitives.WriteUInt64LittleEndian(message[IcMessage.BodyOffset..], _sequence);
        return channel.TrySend(++_transaction, message);
    }
}
