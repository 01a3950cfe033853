using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Silo.Web;

/// <summary>
/// What one of the silo's web servers serves: its routes over the silo's services (<paramref name="Map"/>), how
/// the user names its port in messages, and optionally the services its routes need (<see cref="AddServices"/>,
/// given the silo's) and how its connections are secured (<see cref="Secure"/>).
/// </summary>
internal sealed record SiloWebSite(string PortName, string PortOption, Action<WebApplication, IServiceProvider> Map)
{
    /// <summary>The probes and the Prometheus scrape on <c>--health-port</c>.</summary>
    public static readonly SiloWebSite Health = new("health port", "--health-port", (web, silo) =>
    {
        SiloHealthEndpoints.Map(web, silo);
        SiloMetricsEndpoint.Map(web, silo);
    });

    public Action<IServiceCollection, IServiceProvider>? AddServices { get; init; }

    public Action<ListenOptions>? Secure { get; init; }
}
