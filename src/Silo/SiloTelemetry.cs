using Actors.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Actors.Silo;

/// <summary>
/// Traces and metrics of Orleans and of our own code. Exporters are opt-in (ACTORS_OTEL_CONSOLE=1,
/// OTEL_EXPORTER_OTLP_ENDPOINT, and a Prometheus scrape on the silo's web server when it has one), so a plain run
/// costs only the instrumentation itself; an idle silo's housekeeping calls begin no trace
/// (<see cref="IdleTraceSampler"/>).
/// </summary>
internal static class SiloTelemetry
{
    /// <param name="scrape">Whether the silo serves <c>/metrics</c> (<see cref="Web.SiloMetricsEndpoint"/>); the exporter
    /// behind it collects only when scraped.</param>
    public static void Add(IServiceCollection services, string hostName, Func<string, string?> environment, bool scrape)
    {
        bool console = environment("ACTORS_OTEL_CONSOLE") == "1";
        bool otlp = !string.IsNullOrWhiteSpace(environment("OTEL_EXPORTER_OTLP_ENDPOINT"));
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("actors-silo", serviceInstanceId: hostName))
            .WithTracing(tracing =>
            {
                tracing.AddSource("Microsoft.Orleans.*", "Actors.*");
                tracing.SetSampler(new ParentBasedSampler(new IdleTraceSampler()));
                if (console)
                    tracing.AddConsoleExporter();
                if (otlp)
                    tracing.AddOtlpExporter();
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("Microsoft.Orleans", HypervisorMetrics.MeterName);
                if (console)
                    metrics.AddConsoleExporter();
                if (otlp)
                    metrics.AddOtlpExporter();
                if (scrape)
                    metrics.AddPrometheusExporter();
            });
    }
}
