using Actors.HwBackend.Devices.Legacy;

namespace Actors.HwBackend.Worker;

/// <summary>
/// Numbers a UART's output batches with their offset in the VM's whole output, keeps the most
/// recent bytes in a ring so a late subscriber can catch up, and forwards each batch to the
/// console sink. The UART calls <see cref="Transmit"/> with its own lock held, which serialises
/// batches: sequence numbers and the order the sink sees are the transmit order, with no gaps.
/// </summary>
internal sealed class ConsoleOutputLog : ISerialTransmitSink
{
    public const int DefaultCapacity = 64 * 1024;

    private readonly IConsoleOutputSink? _sink;
    private readonly byte[] _ring;
    private readonly Lock _lock = new();

    // Guarded by _lock. _total is also the next batch's sequence number; the ring holds the
    // min(_total, capacity) bytes that end at _total, the newest at index (_total - 1) % capacity.
    private long _total;

    public ConsoleOutputLog(IConsoleOutputSink? sink, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _sink = sink;
        _ring = new byte[capacity];
    }

    /// <summary>Bytes of output so far.</summary>
    public long TotalBytes
    {
        get { lock (_lock) return _total; }
    }

    public void Transmit(ReadOnlySpan<byte> data)
    {
        long sequence;
        lock (_lock)
        {
            sequence = _total;
            Append(data);
            _total += data.Length;
        }
        // Outside our lock so readers of the ring never wait on the sink; the UART's lock still
        // orders the calls.
        _sink?.OnOutput(sequence, data);
    }

    /// <summary>
    /// Continues another machine's log (a restore or migration): the next batch is numbered
    /// <paramref name="sequence"/> + the tail's length, and the tail is what late readers see.
    /// Only before any output.
    /// </summary>
    public void Continue(long sequence, ReadOnlySpan<byte> tail)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        lock (_lock)
        {
            if (_total != 0)
                throw new InvalidOperationException("the console log already has output of its own");
            _total = sequence;
            Append(tail);
            _total += tail.Length;
        }
    }

    /// <summary>The retained tail of the output and the sequence number of its first byte.</summary>
    public (long Sequence, byte[] Bytes) ReadRecent()
    {
        lock (_lock)
        {
            int length = (int)Math.Min(_total, _ring.Length);
            var bytes = new byte[length];
            long first = _total - length;
            int start = (int)(first % _ring.Length);
            int head = Math.Min(length, _ring.Length - start);
            _ring.AsSpan(start, head).CopyTo(bytes);
            _ring.AsSpan(0, length - head).CopyTo(bytes.AsSpan(head));
            return (first, bytes);
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        // Only the last capacity bytes of a batch can survive in the ring.
        if (data.Length > _ring.Length)
        {
            long skipped = data.Length - _ring.Length;
            AppendAt(_total + skipped, data[(int)skipped..]);
        }
        else
        {
            AppendAt(_total, data);
        }
    }

    private void AppendAt(long offset, ReadOnlySpan<byte> data)
    {
        int start = (int)(offset % _ring.Length);
        int head = Math.Min(data.Length, _ring.Length - start);
        data[..head].CopyTo(_ring.AsSpan(start));
        data[head..].CopyTo(_ring);
    }
}
