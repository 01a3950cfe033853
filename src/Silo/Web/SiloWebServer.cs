using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Silo.Web;

/// <summary>
/// One of the silo's HTTP servers: Kestrel on one endpoint inside the silo's host, serving one
/// <see cref="SiloWebSite"/> (the health probes, or the dashboard) over the silo services it needs.
/// <para>
/// It is a small web application of its own rather than the silo's host turned into one, so that a silo
/// without <c>--health-port</c> opens no HTTP port and reads no ASP.NET Core settings (ASPNETCORE_URLS and the
/// like). It sees only the silo services it is handed. It starts before the silo (so <c>/healthz</c> answers and
/// <c>/readyz</c> says "Joining" while the silo joins) and stops after it (so <c>/readyz</c> reports the
/// shutdown rather than refusing connections).
/// </para>
/// </summary>
internal sealed class SiloWebServer(IPEndPoint endpoint, IServiceProvider silo, SiloWebSite site) : IHostedLifecycleService
{
    private WebApplication? _web;

    /// <summary>Adds a server of <paramref name="site"/> to the silo's host when there is an endpoint to serve on.</summary>
    public static void Add(IServiceCollection services, IPEndPoint? endpoint, SiloWebSite site)
    {
        if (endpoint is not null)
            services.AddSingleton<IHostedService>(silo => new SiloWebServer(endpoint, silo, site));
    }

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(endpoint, listen => site.Secure?.Invoke(listen)));
        builder.Services.AddRoutingCore();
        site.AddServices?.Invoke(builder.Services, silo);
        // The silo's log, warnings and errors only: the kubelet probes every few seconds, and a line for each
        // request would bury the silo's own.
        foreach (ILoggerProvider provider in silo.GetServices<ILoggerProvider>())
            builder.Services.AddSingleton(provider);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // The silo's host alone answers SIGTERM and Ctrl+C.
        builder.Services.AddSingleton<IHostLifetime, SiloOwnedLifetime>();

        WebApplication web = builder.Build();
        site.Map(web, silo);
        try
        {
            await web.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException)
        {
            await web.DisposeAsync().ConfigureAwait(false);
            throw new SiloConfigurationException($"{site.PortName} {endpoint.Port} on {endpoint.Address} is already in use; choose another with {site.PortOption}");
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
