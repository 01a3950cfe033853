using System.Threading.Channels;
using Actors.Grains;
using Orleans.Streams;

namespace Actors.Client;

/// <summary>
/// A live subscription to one VM's console stream. Batches arrive in order with repeats and overlaps
/// removed (by <see cref="ConsoleOutput.Sequence"/>), because a memory stream may redeliver after a
/// producer moves. Subscribe before starting a VM to see its first byte.
/// </summary>
public sealed class ConsoleSubscription : IAsyncDisposable
{
    private readonly Channel<ConsoleOutput> _batches =
        Channel.CreateUnbounded<ConsoleOutput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, TaskCompletionSource> _markers = [];
    private IAsyncStream<ConsoleOutput>? _stream;
    private StreamSubscriptionHandle<ConsoleOutput>? _handle;
    private long _endOffset = -1;
    private TaskCompletionSource _progress = NewProgress();

    internal ConsoleSubscription(string vmName)
    {
        VmName = vmName;
    }

    /// <summary>The VM whose console this is.</summary>
    public string VmName { get; }

    /// <summary>The offset just past the last byte received, or -1 before the first batch.</summary>
    public long EndOffset
    {
        get
        {
            lock (_gate) return _endOffset;
        }
    }

    /// <summary>
    /// Batches with a negative sequence are in-band markers (see <see cref="FlushAsync"/>), never console output;
    /// other subscribers of the stream drop them too.
    /// </summary>
    public const long MarkerSequence = -1;

    internal async Task AttachAsync(IAsyncStream<ConsoleOutput> stream)
    {
        _stream = stream;
        _handle = await stream.SubscribeAsync(
            (batch, _) =>
            {
                Accept(batch);
                return Task.CompletedTask;
            },
            error =>
            {
                _batches.Writer.TryComplete(error);
                return Task.CompletedTask;
            },
            () =>
            {
                _batches.Writer.TryComplete();
                return Task.CompletedTask;
            });
    }

    /// <summary>Console batches as they arrive, until this subscription is disposed or the token fires.</summary>
    public IAsyncEnumerable<ConsoleOutput> ReadAllAsync(CancellationToken cancellationToken = default) =>
        _batches.Reader.ReadAllAsync(cancellationToken);

    /// <summary>
    /// Waits until the output up to <paramref name="offset"/> (a VM's <see cref="VmStatus.ConsoleBytes"/>) has
    /// arrived, so a caller that saw the VM stop can print its last words. False if it did not within the timeout.
    /// </summary>
    public async Task<bool> WaitForOffsetAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task progress;
            lock (_gate)
            {
                if (offset <= 0 || _endOffset >= offset) return true;
                progress = _progress.Task;
            }

            try
            {
                await progress.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Waits until everything published to the console stream before this call has arrived here: it publishes a
    /// marker behind it on the same stream, whose delivery is in order, and waits for the marker. Callers that
    /// saw a VM stop use it to print the guest's last words. False if the marker did not come back in time.
    /// </summary>
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        IAsyncStream<ConsoleOutput> stream = _stream ?? throw new InvalidOperationException("not subscribed");
        var id = Guid.NewGuid();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _markers[id] = arrived;
        try
        {
            await stream.OnNextAsync(new ConsoleOutput(MarkerSequence, id.ToByteArray())).ConfigureAwait(false);
            await arrived.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            lock (_gate) _markers.Remove(id);
        }
    }

    /// <summary>Ends the subscription: <see cref="ReadAllAsync"/> ends after the batches already received, and the stream forgets this subscriber (quietly, if the cluster is gone).</summary>
    public async ValueTask DisposeAsync()
    {
        _batches.Writer.TryComplete();
        StreamSubscriptionHandle<ConsoleOutput>? handle = Interlocked.Exchange(ref _handle, null);
        if (handle is null) return;
        try
        {
            await handle.UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The cluster may already be gone (client shut down, silo stopped); the subscription dies with it.
        }
    }

    internal void Accept(ConsoleOutput batch)
    {
        TaskCompletionSource progress;
        lock (_gate)
        {
            if (batch.Sequence < 0)
            {
                if (batch.Data.Length == 16 && _markers.TryGetValue(new Guid(batch.Data), out TaskCompletionSource? marker))
                    marker.TrySetResult();
                return;
            }

            long end = batch.Sequence + batch.Data.Length;
            if (_endOffset >= 0 && end <= _endOffset) return;

            ConsoleOutput fresh = batch;
            if (_endOffset >= 0 && batch.Sequence < _endOffset)
            {
                int skip = (int)(_endOffset - batch.Sequence);
                fresh = new ConsoleOutput(_endOffset, batch.Data[skip..]);
            }

            // A gap (subscribed late, or output lost) is accepted as it is: nothing can fill it.
            _endOffset = end;
            _batches.Writer.TryWrite(fresh);
            progress = _progress;
            _progress = NewProgress();
        }

        progress.TrySetResult();
    }

    private static TaskCompletionSource NewProgress() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
