using System.Diagnostics;

namespace Actors.Client;

/// <summary>
/// The client SDK's spans: one for each operation that changes a VM, so that its grain calls (an upload's chunks,
/// a migration's polls) hang below one span in the caller's trace, or begin one when the caller has none.
/// </summary>
public static class ClientTracing
{
    /// <summary>The name of the client's <see cref="ActivitySource"/>: add it to a tracer provider to export the client's spans.</summary>
    public const string SourceName = "Actors.Client";

    /// <summary>The source the client's spans start from.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>A span named after the SDK operation (<c>StartVm</c>, <c>MigrateVm</c>, ...) on one VM.</summary>
    internal static Activity? Start(string operation, string vm) =>
        Source.StartActivity(operation, ActivityKind.Client)?.SetTag("actors.vm", vm);
}
