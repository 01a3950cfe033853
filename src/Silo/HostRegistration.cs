using Actors.Grains;
using Microsoft.Extensions.Logging;

namespace Actors.Silo;

/// <summary>
/// Keeps this silo's host in the host catalog, so placement can pick it. The first registration
/// runs once the silo can take calls, retried a few times; after that a background loop checks
/// every few seconds that the host is still listed and registers it again if not. One call is not enough: while silos join,
/// a call can time out or land on an activation that the directory then discards, and the catalog's
/// memory storage dies with the silo that held it.
/// </summary>
internal sealed partial class HostRegistration(IGrainFactory grains, ILocalSiloDetails localSilo, BackendSelection.Choice backend, ILogger<HostRegistration> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(500);
    private const int FirstRegistrationAttempts = 10;

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(HostRegistration), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>Registers before the silo reports itself started (so a VM can be placed here at once), then keeps checking.</summary>
    private async Task StartAsync(CancellationToken cancellation)
    {
        LogBackend(logger, localSilo.Name, backend.Why);
        var catalog = grains.GetGrain<IHostCatalogGrain>(0);
        for (int attempt = 1; attempt <= FirstRegistrationAttempts && !cancellation.IsCancellationRequested; attempt++)
        {
            try
            {
                await catalog.RegisterAsync(localSilo.Name).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (attempt < FirstRegistrationAttempts)
            {
                LogRegistrationFailed(logger, localSilo.Name, ex.Message);
                await Task.Delay(RetryInterval, cancellation).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The loop below keeps trying; a silo that cannot register yet still serves its grains.
                LogRegistrationFailed(logger, localSilo.Name, ex.Message);
            }
        }
        _loop = Task.Run(KeepRegisteredAsync, CancellationToken.None);
    }

    private async Task StopAsync(CancellationToken cancellation)
    {
        _stopping.Cancel();
        if (_loop is { } loop)
            await loop.ConfigureAwait(false);
    }

    private async Task KeepRegisteredAsync()
    {
        var catalog = grains.GetGrain<IHostCatalogGrain>(0);
        string host = localSilo.Name;
        while (!_stopping.IsCancellationRequested)
        {
            TimeSpan next = CheckInterval;
            try
            {
                var hosts = await catalog.ListAsync().ConfigureAwait(false);
                if (!hosts.Contains(host))
                    await catalog.RegisterAsync(host).ConfigureAwait(false);
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
            {
                LogRegistrationFailed(logger, host, ex.Message);
                next = RetryInterval;
            }
            try
            {
                await Task.Delay(next, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "host {Host} runs its guests on {Backend}")]
    private static partial void LogBackend(ILogger logger, string host, string backend);

    [LoggerMessage(Level = LogLevel.Warning, Message = "registering host {Host} in the host catalog failed, retrying: {Reason}")]
    private static partial void LogRegistrationFailed(ILogger logger, string host, string reason);
}
