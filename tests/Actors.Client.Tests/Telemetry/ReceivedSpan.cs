using Actors.Client.Tests.Telemetry.Otlp;

namespace Actors.Client.Tests.Telemetry;

/// <summary>One span as a process exported it: which process (service and instance), which source, and where it sits in its trace.</summary>
internal sealed record ReceivedSpan(
    string Service,
    string? Instance,
    string Scope,
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    SpanKind Kind,
    IReadOnlyDictionary<string, string> Attributes)
{
    public override string ToString() => $"{Service}/{Instance} {Scope} {Kind} '{Name}' {SpanId} <- {ParentSpanId ?? "(root)"}";
}
