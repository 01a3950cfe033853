using System.Diagnostics;

namespace Actors.Grains.Telemetry;

/// <summary>Spans for the slow, rare steps of a VM's life (boot, stop, end), joined to the Orleans call spans around them.</summary>
public static class HypervisorTracing
{
    public const string SourceName = "Actors.Hypervisor";

    public static readonly ActivitySource Source = new(SourceName);

    public static Activity? Start(string operation, string vmName, string host) =>
        Source.StartActivity(operation)?.SetTag("actors.vm", vmName).SetTag("actors.host", host);

    /// <summary>A span that begins a trace of its own, linked to the span of the call that led to it.</summary>
    public static Activity? StartLinked(string operation, string vmName, string host, ActivityContext cause) =>
        Source.StartActivity(operation, ActivityKind.Internal, parentContext: default, links: cause == default ? null : [new ActivityLink(cause)])
            ?.SetTag("actors.vm", vmName).SetTag("actors.host", host);

    /// <summary>
    /// Clears the current span until disposed, for starting work that outlives the call starting it (a VM's vCPU
    /// threads, its console drain, relay pumps, port uplinks): threads and tasks take the current span with them,
    /// so without this everything a VM does for its whole life would join the trace of the command that started it.
    /// What that work calls later begins traces of its own. Use it around synchronous code only.
    /// </summary>
    public static DetachedScope Detach() => new(Activity.Current);

    public readonly struct DetachedScope : IDisposable
    {
        private readonly Activity? _caller;

        internal DetachedScope(Activity? caller)
        {
            _caller = caller;
            Activity.Current = null;
        }

        public void Dispose() => Activity.Current = _caller;
    }
}
