using System.Diagnostics;

namespace Actors.Client;

/// <summary>The client's spans: the root of each traced operation, so that its grain calls join one trace.</summary>
public static class ClientTracing
{
    /// <summary>The name of the client's <see cref="ActivitySource"/>: add it to a tracer provider to export the client's spans.</summary>
    public const string SourceName = "Actors.Client";

    /// <summary>The source the client's spans start from.</summary>
    public static readonly ActivitySource Source = new(SourceName);
}
