namespace Actors.HwBackend.VmBus;

/// <summary>
/// The VM's end of a device whose VSP runs elsewhere, in a grain that may be on another silo: what
/// the guest does on the channel is queued as <see cref="VmBusRelayEvent"/>s for the VSP to take,
/// and the VSP's packets are written into the channel's ring here, where the guest's memory is.
/// The guest's side runs on vCPU threads, which only copy and queue; <paramref name="wake"/> tells
/// whoever carries the events to the VSP that there are some. The queue is bounded: packets beyond
/// <see cref="MaxWaitingPackets"/> are dropped, and an open or a close drops what the previous open
/// left waiting, which no VSP could use any more.
/// </summary>
public sealed class VmBusRelay(int maxPacketBytes, Action wake) : IVmBusDevice
{
    public const int MaxWaitingPackets = 256;

    private readonly Lock _lock = new();
    private readonly byte[] _buffer = new byte[maxPacketBytes];
    private readonly Queue<VmBusRelayEvent> _events = new();
    private IVmBusChannel? _channel;
    private int _epoch;
    private long _dropped, _refused;

    /// <summary>Packets from the guest that no VSP saw because too many waited (the ring itself drops those too long for the buffer).</summary>
    public long Dropped
    {
        get { lock (_lock) return _dropped; }
    }

    /// <summary>Packets from the VSP not written: meant for an earlier open, the channel closed, or its ring full.</summary>
    public long Refused
    {
        get { lock (_lock) return _refused; }
    }

    public void Opened(IVmBusChannel channel)
    {
        lock (_lock)
        {
            _channel = channel;
            StartEpochLocked();
        }
        wake();
    }

    public void Signalled(IVmBusChannel channel)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(channel, _channel))
                return;
            int length;
            while ((length = channel.TryReceive(_buffer)) > 0)
            {
                if (_events.Count >= MaxWaitingPackets + 1)
                    _dropped++;
                else
                    _events.Enqueue(new VmBusRelayEvent(VmBusRelayEventKind.Packet, _epoch, _buffer.AsSpan(0, length).ToArray()));
            }
        }
        wake();
    }

    public void Closed()
    {
        lock (_lock)
        {
            _channel = null;
            _events.Clear();
            _events.Enqueue(new VmBusRelayEvent(VmBusRelayEventKind.Closed, _epoch));
        }
        wake();
    }

    /// <summary>
    /// The VSP lost what it was told (its silo went, or a delivery failed): if the channel is open,
    /// it starts over as if just opened, under a new epoch, and the VSP negotiates again as it would
    /// after a migration. Returns whether there is anything to tell it.
    /// </summary>
    public bool Resynchronize()
    {
        lock (_lock)
        {
            if (_channel is null)
                _events.Clear();
            else
                StartEpochLocked();
            return _events.Count > 0;
        }
    }

    /// <summary>Moves the waiting events, oldest first, into <paramref name="into"/>; false when there were none.</summary>
    public bool TakeEvents(List<VmBusRelayEvent> into)
    {
        lock (_lock)
        {
            if (_events.Count == 0)
                return false;
            into.AddRange(_events);
            _events.Clear();
            return true;
        }
    }

    /// <summary>Writes the VSP's packets, in order, into the open channel of <paramref name="epoch"/>; returns how many were written.</summary>
    public int Send(int epoch, IReadOnlyList<VmBusRelayPacket> packets)
    {
        lock (_lock)
        {
            int written = 0;
            if (epoch == _epoch && _channel is { } channel)
            {
                // Stops at the first that does not fit: writing a later one would reorder them.
                while (written < packets.Count && channel.TrySend(packets[written].TransactionId, packets[written].Data))
                    written++;
            }
            _refused += packets.Count - written;
            return written;
        }
    }

    private void StartEpochLocked()
    {
        _events.Clear();
        _events.Enqueue(new VmBusRelayEvent(VmBusRelayEventKind.Opened, ++_epoch));
    }
}
