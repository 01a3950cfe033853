using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Actors.Silo.Web;

/// <summary>
/// <c>GET /metrics</c>: the silo's metrics (ours and Orleans') in Prometheus' text format, through OpenTelemetry's
/// Prometheus exporter. The exporter is a reader of the silo's own meter provider (<see cref="SiloTelemetry"/>), which
/// lives in the silo's services rather than this web server's, so it is handed to the route explicitly.
/// </summary>
internal static class SiloMetricsEndpoint
{
    public const string Path = "/metrics";

    public static void Map(IEndpointRouteBuilder web, IServiceProvider silo) =>
        web.MapPrometheusScrapingEndpoint(Path, silo.GetRequiredService<MeterProvider>(), configureBranchedPipeline: null, optionsName: null);
}
