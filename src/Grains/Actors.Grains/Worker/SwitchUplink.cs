using System.Threading.Channels;
using Actors.HwBackend.Network;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Worker;

/// <summary>
/// A VM's network adapter's side of its switch port: the frames its guest sends are copied into a
/// queue on the vCPU thread, and a pump on the worker grain's scheduler forwards whatever has piled
/// up to the switch in one batch, one call at a time. The queue is bounded: frames the switch cannot
/// take fast enough are dropped and counted, as a full transmit queue drops them, and the guest's
/// TCP slows down.
/// </summary>
internal sealed class SwitchUplink(SwitchPort port, ILogger logger) : INetworkUplink
{
    /// <summary>Bytes queued at most; about 650 full-size frames.</summary>
    public const int MaxQueuedBytes = 1 << 20;

    /// <summary>Bytes a batch carries at most, so that one call stays short.</summary>
    private const int MaxBatchBytes = 256 * 1024;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly Channel<bool> _wakes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private byte[] _queue = new byte[64 * 1024];
    private readonly List<int> _lengths = [];
    private int _queued;
    private long _dropped;

    public SwitchPort Port { get; } = port;

    public MacAddress Address { get; } = MacAddress.TryParse(port.Mac, out MacAddress address) ? address : throw new ArgumentException($"'{port.Mac}' is not a MAC address", nameof(port));

    /// <summary>Frames dropped because the queue was full or the switch did not take them.</summary>
    public long Dropped
    {
        get { lock (_lock) return _dropped; }
    }

    public void Transmit(ReadOnlySpan<byte> frame)
    {
        lock (_lock)
        {
            if (_queued + frame.Length > MaxQueuedBytes)
            {
                _dropped++;
                return;
            }
            if (_queued + frame.Length > _queue.Length)
                Array.Resize(ref _queue, Math.Min(MaxQueuedBytes, Math.Max(_queue.Length * 2, _queued + frame.Length)));
            frame.CopyTo(_queue.AsSpan(_queued));
            _queued += frame.Length;
            _lengths.Add(frame.Length);
        }
        _wakes.Writer.TryWrite(true);
    }

    /// <summary>No more forwarding: the pump ends after the call in flight, if any.</summary>
    public void Complete() => _wakes.Writer.TryComplete();

    /// <summary>Forwards until <see cref="Complete"/>. Run it on the worker grain's scheduler.</summary>
    public async Task RunAsync(Func<FrameBatch, Task> forward)
    {
        ChannelReader<bool> wakes = _wakes.Reader;
        while (await wakes.WaitToReadAsync())
        {
            wakes.TryRead(out _);
            while (Take() is { } batch)
            {
                try
                {
                    await forward(batch);
                }
                catch (Exception e)
                {
                    lock (_lock)
                        _dropped += batch.Count;
                    logger.LogWarning("Switch port {Port} lost {Frames} frames: the switch did not take them ({Error})", Port, batch.Count, e.Message);
                    await Task.Delay(RetryDelay);
                }
            }
        }
    }

    /// <summary>The frames queued so far (up to a batch's worth), or null when there are none.</summary>
    private FrameBatch? Take()
    {
        lock (_lock)
        {
            if (_lengths.Count == 0)
                return null;
            int count = 0, bytes = 0;
            while (count < _lengths.Count && (count == 0 || bytes + _lengths[count] <= MaxBatchBytes))
                bytes += _lengths[count++];
            var batch = new FrameBatch(_queue[..bytes], [.. _lengths.GetRange(0, count)]);
            _queue.AsSpan(bytes, _queued - bytes).CopyTo(_queue);
            _queued -= bytes;
            _lengths.RemoveRange(0, count);
            return batch;
        }
    }
}
