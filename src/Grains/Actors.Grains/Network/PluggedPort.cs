using Actors.HwBackend.Network;

namespace Actors.Grains.Network;

/// <summary>
/// A port as its switch holds it while it is plugged in: where its frames go now, its address, what it
/// has carried and its queue of batches. A VM that moves keeps its port: the move changes where the
/// frames go, not the counters or the address.
/// One delivery to a port is under way at a time, so its frames arrive in the order the switch took them
/// (two calls under way at once may land either way round); the batches sorted for it meanwhile wait, and
/// go on together as one when it ends.
/// </summary>
internal sealed class PluggedPort(SwitchPort port, MacAddress mac, INetworkPortSink sink, string? host)
{
    /// <summary>
    /// Batches one port's queue holds: the one under way and those waiting for it. Past them the port's
    /// frames are dropped, as a switch drops frames for a port whose queue is full, so that a VM that takes
    /// its frames slowly (or a flood aimed at it) holds up no other port.
    /// </summary>
    public const int QueueBatches = 4;

    private readonly List<FrameDelivery> _waiting = [];
    private bool _sending;

    // One batch's share for this port while VirtualSwitch.Forward sorts it, within one grain turn; empty
    // between batches.
    private int _queuedFrames;
    private int _queuedBytes;
    private byte[]? _outData;
    private int[]? _outLengths;
    private int _outFrames;
    private int _outBytes;

    public SwitchPort Port { get; private set; } = port;

    public MacAddress Mac { get; private set; } = mac;

    public INetworkPortSink Sink { get; private set; } = sink;

    public string? Host { get; private set; } = host;

    /// <summary>"vm/nic0", made once because it tags the port's metrics on every batch.</summary>
    public string Name { get; } = port.ToString();

    public long FramesIn { get; private set; }

    public long BytesIn { get; private set; }

    public long FramesOut { get; private set; }

    public long BytesOut { get; private set; }

    /// <summary>Frames for this port that never reached it: no room, or a delivery that failed.</summary>
    public long Dropped { get; private set; }

    /// <summary>Batches in this port's queue: the one under way and those waiting for it.</summary>
    public int QueuedBatches => (_sending ? 1 : 0) + _waiting.Count;

    public void MoveTo(SwitchPort port, MacAddress mac, INetworkPortSink sink, string? host)
    {
        Port = port;
        Mac = mac;
        Sink = sink;
        Host = host;
    }

    public bool IsDeliveredTo(INetworkPortSink sink) => Sink.GetGrainId() == sink.GetGrainId();

    public void Received(int frames, long bytes)
    {
        FramesIn += frames;
        BytesIn += bytes;
    }

    /// <summary>Whether <paramref name="delivery"/> goes now; while another to this port is under way it waits for it.</summary>
    public bool TakeTurn(FrameDelivery delivery)
    {
        if (_sending)
        {
            _waiting.Add(delivery);
            return false;
        }

        _sending = true;
        return true;
    }

    /// <summary>
    /// Counts an ended delivery and hands out the next: what waited meanwhile, as one batch, to where the
    /// port is now (a VM that moved gets it at its new place). False when nothing waits.
    /// </summary>
    public bool DeliveryEnded(FrameDelivery delivery, bool delivered, out FrameDelivery next)
    {
        if (delivered)
        {
            FramesOut += delivery.Frames.Count;
            BytesOut += delivery.Bytes;
        }
        else
        {
            Dropped += delivery.Frames.Count;
        }

        next = default;
        if (_waiting.Count == 0)
        {
            _sending = false;
            return false;
        }

        next = _waiting.Count == 1 ? _waiting[0] with { Sink = Sink, Nic = Port.Nic } : new FrameDelivery(this, Sink, Port.Nic, Joined(_waiting), _waiting.Sum(d => d.Bytes));
        _waiting.Clear();
        return true;
    }

    private static FrameBatch Joined(List<FrameDelivery> deliveries)
    {
        var data = new byte[deliveries.Sum(d => d.Bytes)];
        var lengths = new int[deliveries.Sum(d => d.Frames.Count)];
        int bytes = 0, frames = 0;
        foreach (FrameDelivery d in deliveries)
        {
            d.Frames.Data.AsSpan(0, d.Bytes).CopyTo(data.AsSpan(bytes));
            d.Frames.Lengths.CopyTo(lengths, frames);
            bytes += d.Bytes;
            frames += d.Frames.Count;
        }

        return new FrameBatch(data, lengths);
    }

    public SwitchPortStatus Describe() => new(Port, Host, FramesIn, BytesIn, FramesOut, BytesOut, Dropped);

    public bool HasQueued => _queuedFrames > 0;

    /// <summary>A frame of <paramref name="length"/> bytes of the batch being sorted goes here.</summary>
    public void Queue(int length)
    {
        _queuedFrames++;
        _queuedBytes += length;
    }

    /// <summary>The frames queued from this batch are dropped if the port has no room; returns how many.</summary>
    public int DropQueuedIfFull()
    {
        if (QueuedBatches < QueueBatches)
            return 0;
        int dropped = _queuedFrames;
        Dropped += dropped;
        ClearQueue();
        return dropped;
    }

    /// <summary>Every frame of <paramref name="batch"/> came here: it goes on as it is, without a copy.</summary>
    public bool TryTakeWhole(FrameBatch batch, out FrameDelivery delivery)
    {
        delivery = default;
        if (_queuedFrames != batch.Count)
            return false;
        delivery = Start(batch, _queuedBytes);
        ClearQueue();
        return true;
    }

    /// <summary>Makes room for the queued frames, which <see cref="Append"/> copies in, in the order they came.</summary>
    public void PrepareCopy()
    {
        _outData = new byte[_queuedBytes];
        _outLengths = new int[_queuedFrames];
        _outFrames = 0;
        _outBytes = 0;
        ClearQueue();
    }

    public void Append(ReadOnlySpan<byte> frame)
    {
        if (_outLengths is null)
            return; // dropped for want of room, or taken whole
        frame.CopyTo(_outData.AsSpan(_outBytes));
        _outLengths[_outFrames++] = frame.Length;
        _outBytes += frame.Length;
    }

    /// <summary>The copied frames as one batch, if this port was copied to.</summary>
    public bool TryTakeCopy(out FrameDelivery delivery)
    {
        delivery = default;
        if (_outLengths is null)
            return false;
        delivery = Start(new FrameBatch(_outData!, _outLengths), _outBytes);
        _outData = null;
        _outLengths = null;
        return true;
    }

    private FrameDelivery Start(FrameBatch batch, int bytes) => new(this, Sink, Port.Nic, batch, bytes);

    private void ClearQueue()
    {
        _queuedFrames = 0;
        _queuedBytes = 0;
    }
}
