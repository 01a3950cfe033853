using System.Net;
using Actors.Client;
using Actors.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Actors.Hvctl;

/// <summary>
/// Real silos hosted in the hvctl process on loopback ports, for <c>run</c> and <c>demo</c>: the same silo code
/// a deployment runs, so what works here works across machines. The first silo is the seed the others join.
/// </summary>
internal sealed class EmbeddedCluster : IAsyncDisposable
{
    private static readonly TimeSpan HostsRegisteredTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly List<IHost> _hosts;

    private EmbeddedCluster(List<IHost> hosts, IReadOnlyList<EmbeddedSilo> silos, HypervisorClient client)
    {
        _hosts = hosts;
        Silos = silos;
        Client = client;
    }

    public IReadOnlyList<EmbeddedSilo> Silos { get; }

    /// <summary>A client inside the first silo: no extra connection, and it lives exactly as long as the cluster.</summary>
    public HypervisorClient Client { get; }

    public static async Task<EmbeddedCluster> StartAsync(IReadOnlyList<string> hostNames, string backend, CancellationToken cancellationToken)
    {
        QuietSiloLogging();
        int[] ports = LoopbackPorts.Free(hostNames.Count * 2);
        var silos = new List<EmbeddedSilo>();
        var hosts = new List<IHost>();
        try
        {
            for (int i = 0; i < hostNames.Count; i++)
            {
                var silo = new EmbeddedSilo(
                    hostNames[i], new IPEndPoint(IPAddress.Loopback, ports[2 * i]), new IPEndPoint(IPAddress.Loopback, ports[(2 * i) + 1]));
                IHost host = ActorsSilo.Build(new SiloSettings(
                    silo.Host, silo.SiloEndpoint.Port, silo.GatewayEndpoint.Port, i == 0 ? null : silos[0].SiloEndpoint, backend));
                hosts.Add(host);
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
                silos.Add(silo);
            }

            var client = new HypervisorClient(hosts[0].Services.GetRequiredService<IClusterClient>());
            var cluster = new EmbeddedCluster(hosts, silos, client);
            await cluster.WaitForHostsAsync(hostNames, cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await StopAllAsync(hosts).ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync().ConfigureAwait(false);
        await StopAllAsync(_hosts).ConfigureAwait(false);
    }

    // Placement on a named host needs that host registered; silos register as they start, not before StartAsync returns.
    private async Task WaitForHostsAsync(IReadOnlyList<string> hostNames, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(HostsRegisteredTimeout);
        var catalog = Client.Cluster.GetGrain<Actors.Grains.IHostCatalogGrain>(0);
        while (true)
        {
            IReadOnlyList<string> registered = await catalog.ListAsync().ConfigureAwait(false);
            if (hostNames.All(registered.Contains))
                return;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new HypervisorClientException(
                    $"the embedded silos did not all register within {HostsRegisteredTimeout.TotalSeconds} s (have: {string.Join(", ", registered)})");
            }
        }
    }

    /// <summary>
    /// Embedded silos log through the default host configuration, which reads environment variables. hvctl's stdout
    /// carries guest bytes, so silo logs go to stderr and only critical ones show (Orleans logs routine shutdown cancellations as errors), unless the user set these already.
    /// </summary>
    private static void QuietSiloLogging()
    {
        SetIfUnset("Logging__LogLevel__Default", "Critical");
        SetIfUnset("Logging__Console__LogToStandardErrorThreshold", "Trace");
    }

    private static void SetIfUnset(string name, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
            Environment.SetEnvironmentVariable(name, value);
    }

    private static async Task StopAllAsync(List<IHost> hosts)
    {
        // Newest first, so the seed silo leaves last and the others can still announce their departure to it.
        for (int i = hosts.Count - 1; i >= 0; i--)
        {
            try
            {
                using var deadline = new CancellationTokenSource(StopTimeout);
                await hosts[i].StopAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A silo that fails to stop gracefully still goes away with the process.
            }

            hosts[i].Dispose();
        }

        hosts.Clear();
    }
}
