using System.Runtime.InteropServices;
using Actors.Client;
using Actors.Hvctl;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

// hvctl handles Ctrl-C itself rather than letting System.CommandLine end the process after a grace period:
// 'run' and 'demo' must stop their VM and their embedded silos cleanly, which can take longer than that.
using var interrupted = new CancellationTokenSource();
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
{
    context.Cancel = true;
    interrupted.Cancel();
});
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    interrupted.Cancel();
});

// With an OTLP endpoint set, as for the silos, a command's trace starts here (HvctlTracing; docs/operations.md, Telemetry).
using TracerProvider? tracing = string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"))
    ? null
    : Sdk.CreateTracerProviderBuilder()
        .ConfigureResource(r => r.AddService("hvctl"))
        .AddSource(HvctlTracing.SourceName, ClientTracing.SourceName, "Microsoft.Orleans.*")
        .AddOtlpExporter()
        .Build();

return await HvctlApp.RunAsync(args, HvctlIo.System, interrupted.Token);
