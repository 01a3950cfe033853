using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Actors.Silo.Dashboard;

/// <summary>
/// The dashboard's live picture of the cluster, pushed to every open page. The catalogs have no change
/// notifications to listen to, so while a page is open one loop reads the cluster every <see cref="Period"/> and
/// hands each page the snapshot when it differs from the last (and at least every <see cref="KeepAlive"/>, which
/// also keeps idle connections open through proxies). An action taken on a page wakes the loop at once. The
/// loop, and its console subscriptions, end <see cref="Linger"/> after the last page closed, so a page that is
/// reloaded finds the consoles' tails still there. It ends for good when <paramref name="siloStopping"/> fires:
/// a silo that stops answers no more reads, and each would only add errors to its log.
/// </summary>
internal sealed class DashboardFeed(ClusterSnapshotReader reader, ILogger logger, CancellationToken siloStopping) : IAsyncDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan Linger = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly List<Channel<string>> _pages = [];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = CancellationTokenSource.CreateLinkedTokenSource(siloStopping);
    private Task _loop = Task.CompletedTask;
    private bool _running;
    private string? _latest;
    private DateTime _lastPageLeft;

    /// <summary>The snapshots, as JSON, from the latest known one on, until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<string> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Only the newest snapshot matters to a page that fell behind.
        Channel<string> page = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_gate)
        {
            _pages.Add(page);
            if (_latest is not null)
                page.Writer.TryWrite(_latest);
            if (!_running && !_stopping.IsCancellationRequested)
            {
                // A loop that just decided to end may still be letting go of its consoles: the next begins after it.
                Task ending = _loop;
                _running = true;
                _loop = Task.Run(
                    async () =>
                    {
                        await ending.ConfigureAwait(false);
                        await RunAsync().ConfigureAwait(false);
                    },
                    CancellationToken.None);
            }
        }

        try
        {
            await foreach (string snapshot in page.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return snapshot;
        }
        finally
        {
            lock (_gate)
            {
                _pages.Remove(page);
                _lastPageLeft = DateTime.UtcNow;
            }
        }
    }

    /// <summary>Reads the cluster now rather than at the next tick: something changed.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task loop;
        lock (_gate)
            loop = _loop;
        await loop.ConfigureAwait(false);
        _stopping.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync()
    {
        DateTime lastSent = DateTime.MinValue;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                string snapshot = await ReadAsync().ConfigureAwait(false);
                lock (_gate)
                {
                    if (_pages.Count == 0 && DateTime.UtcNow - _lastPageLeft > Linger)
                    {
                        _latest = null;
                        _running = false;
                        break;
                    }

                    if (snapshot != _latest || DateTime.UtcNow - lastSent > KeepAlive)
                    {
                        _latest = snapshot;
                        lastSent = DateTime.UtcNow;
                        foreach (Channel<string> page in _pages)
                            page.Writer.TryWrite(snapshot);
                    }
                }

                try
                {
                    await _wake.WaitAsync(Period, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            logger.LogError(e, "The dashboard's feed stopped");
            lock (_gate)
                _running = false;
        }
        finally
        {
            await reader.StopAsync().ConfigureAwait(false);
        }
    }

    private async Task<string> ReadAsync()
    {
        try
        {
            return JsonSerializer.Serialize(await reader.ReadAsync().ConfigureAwait(false), DashboardJson.Readable.DashboardSnapshot);
        }
        catch (Exception e)
        {
            // The reader keeps each part it can read; this is a failure of its own, such as one while the silo stops.
            logger.LogWarning(e, "The dashboard could not read the cluster");
            return JsonSerializer.Serialize(new DashboardSnapshot(string.Empty, [], [], [], $"could not read the cluster: {e.Message}"), DashboardJson.Readable.DashboardSnapshot);
        }
    }
}
