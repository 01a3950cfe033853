using System.Buffers.Binary;
using System.Globalization;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>
/// The host's end of the heartbeat integration service. When the guest opens the channel it offers
/// framework and heartbeat version 3.0 (NEGOTIATE); once the guest agrees, it sends a sequence
/// number every <see cref="Interval"/> of guest time (the platform timer thread calls it, so a
/// paused VM is not asked), which a live guest (Linux's hv_utils) returns incremented. What comes
/// back is checked: a packet too short, not a response, or with the wrong number is ignored.
/// </summary>
public sealed class HeartbeatService : IVmBusDevice, ITimedDevice
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private const int NegotiateBodyBytes = 16; // two counts, reserved, then one framework and one message version
    private const int HeartbeatBodyBytes = 40; // the sequence number and 32 reserved bytes
    private const int MaxPacketBytes = 256;

    private readonly Lock _lock = new();
    private readonly byte[] _packet = new byte[MaxPacketBytes];
    private readonly IPlatformClock _clock;
    private readonly Action _deadlinesChanged;
    private VmBusChannel? _channel;
    private ulong _sequence;
    private ulong _transaction;
    private long _nextBeat = long.MaxValue;
    private long? _lastAnswer;

    /// <param name="deadlinesChanged">Tells the platform timer thread that the next beat moved; called outside the lock.</param>
    public HeartbeatService(IPlatformClock clock, Action deadlinesChanged)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(deadlinesChanged);
        _clock = clock;
        _deadlinesChanged = deadlinesChanged;
    }

    /// <summary>Whether the guest agreed on versions; until then there is nobody to beat for.</summary>
    public bool Negotiated { get; private set; }

    /// <summary>Heartbeats the guest answered correctly since the channel opened.</summary>
    public long Answers { get; private set; }

    public void Opened(VmBusChannel channel)
    {
        lock (_lock)
        {
            (_channel, Negotiated, Answers, _lastAnswer) = (channel, false, 0, null);
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

    public long? NextEventNanoseconds
    {
        get { lock (_lock) return _nextBeat == long.MaxValue ? null : _nextBeat; }
    }

    public void FireDue(long now)
    {
        lock (_lock)
        {
            _nextBeat = Negotiated ? now + (long)Interval.TotalNanoseconds : long.MaxValue;
            BeatLocked();
        }
    }

    /// <summary>What <c>vm show</c> says: whether the guest answers, how often it has, and how long ago it last did (in guest time).</summary>
    public string Describe()
    {
        lock (_lock)
        {
            if (!Negotiated)
                return _channel is null ? "no channel (the guest has not opened it)" : "negotiating";
            if (_lastAnswer is not { } last)
                return "no answer yet";
            double ago = (_clock.NowNanoseconds - last) / 1e9;
            return string.Create(CultureInfo.InvariantCulture, $"ok: {Answers} answers, the last {ago:F1} s ago");
        }
    }

    public void Signalled(VmBusChannel channel)
    {
        bool negotiatedNow = false;
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
                    {
                        BeatLocked();
                        _nextBeat = _clock.NowNanoseconds + (long)Interval.TotalNanoseconds;
                        negotiatedNow = true;
                    }
                }
                else if (IcMessage.Type(message) == IcMessage.Heartbeat && message.Length >= IcMessage.BodyOffset + HeartbeatBodyBytes
                    && BinaryPrimitives.ReadUInt64LittleEndian(message[IcMessage.BodyOffset..]) == _sequence + 1)
                {
                    Answers++;
                    _lastAnswer = _clock.NowNanoseconds;
                }
            }
        }
        if (negotiatedNow)
            _deadlinesChanged();
    }

    public void Closed()
    {
        lock (_lock)
            (_channel, Negotiated, _nextBeat) = (null, false, long.MaxValue);
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
