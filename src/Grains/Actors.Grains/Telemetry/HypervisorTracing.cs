using System.Diagnostics;

namespace Actors.Grains.Telemetry;

/// <summary>Spans for the slow, rare steps of a VM's life (boot, stop, end), joined to the Orleans call spans around them.</summary>
public static class HypervisorTracing
{
    public const string SourceName = "Actors.Hypervisor";

    public static readonly ActivitySource Source = new(SourceName);

    public static Activity? Start(string operation, string vmName, string host) =>
        Source.StartActivity(operation)?.SetTag("actors.vm", vmName).SetTag("actors.host", host);
}
