using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Silo.Web;

/// <summary>
/// The silo's HTTP server: Kestrel on one endpoint inside the silo's host, serving the health probes. The
/// dashboard and a Prometheus scrape belong here too: each maps its routes in <see cref="StartingAsync"/>
/// beside <see cref="SiloHealthEndpoints"/>, over the silo services it needs.
/// <para>
/// It is a small web application of its own rather than the silo's host turned into one, so that a silo
/// without <c>--health-port</c> opens no HTTP port and reads no ASP.NET Core settings (ASPNETCORE_URLS and the
/// like). It sees only the silo services it is handed. It starts before the silo (so <c>/healthz</c> answers and
/// <c>/readyz</c> says "Joining" while the silo joins) and stops after it (so <c>/readyz</c> reports the
/// shutdown rather than refusing connections).
/// </para>
/// </summary>
internal sealed class SiloWebServer(IPEndPoint endpoint, IServiceProvider silo) : IHostedLifecycleService
{
    private WebApplication? _web;

    /// <summary>Adds the server to the silo's host when there is an endpoint to serve on.</summary>
    public static void Add(IServiceCollection services, IPEndPoint? endpoint)
    {
        if (endpoint is not null)
            services.AddSingleton<IHostedService>(silo => new SiloWebServer(endpoint, silo));
    }

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(endpoint));
        builder.Services.AddRoutingCore();
        // The silo's log, warnings and errors only: the kubelet probes every few seconds, and a line for each
        // request would bury the silo's own.
        foreach (ILoggerProvider provider in silo.GetServices<ILoggerProvider>())
            builder.Services.AddSingleton(provider);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // The silo's host alone answers SIGTERM and Ctrl+C.
        builder.Services.AddSingleton<IHostLifetime, SiloOwnedLifetime>();

        WebApplication web = builder.Build();
        SiloHealthEndpoints.Map(web, silo);
        SiloMetricsEndpoint.Map(web, silo);
        try
        {
            await web.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException)
        {
            await web.DisposeAsync().ConfigureAwait(false);
            throw new SiloConfigurationException($"health port {endpoint.Port} on {endpoint.Address} is already in use; choose another with --health-port");
        }

        _web = web;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_web is not { } web)
            return;
        _web = null;
        await web.StopAsync(cancellationToken).ConfigureAwait(false);
        await web.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A lifetime that leaves process signals to the silo's host, which stops this server last.</summary>
    private sealed class SiloOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
