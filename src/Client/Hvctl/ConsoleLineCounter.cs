using System.Text;

namespace Actors.Hvctl;

/// <summary>
/// A console copy that also counts the lines a guest writes that match a test, so that a caller can act
/// when the guest reaches a point of its own (the demo migrates after the guest's first passes, and asks it to
/// finish after more passes on the new host). Bytes pass through unchanged.
/// </summary>
internal sealed class ConsoleLineCounter(Stream output, Func<string, bool> counts) : Stream
{
    // A guest line longer than this is not one the test looks for; its tail is ignored rather than kept.
    private const int MaxLine = 256;

    private readonly StringBuilder _line = new();
    private readonly Lock _lock = new();
    private readonly List<(int Target, TaskCompletionSource Reached)> _waiters = [];
    private int _count;

    public int Count
    {
        get
        {
            lock (_lock)
                return _count;
        }
    }

    /// <summary>Completes once <paramref name="target"/> matching lines have been written in all.</summary>
    public Task WaitForAsync(int target, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_count >= target)
                return Task.CompletedTask;
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, reached));
            return reached.Task.WaitAsync(cancellationToken);
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        output.Write(buffer);
        Scan(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Scan(buffer.Span);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

    private void Scan(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            foreach (byte b in bytes)
            {
                if (b == (byte)'\n')
                {
                    if (counts(_line.ToString().TrimEnd('\r')))
                        Counted();
                    _line.Clear();
                }
                else if (_line.Length < MaxLine)
                {
                    _line.Append((char)b);
                }
            }
        }
    }

    private void Counted()
    {
        _count++;
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Target <= _count)
            {
                _waiters[i].Reached.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
