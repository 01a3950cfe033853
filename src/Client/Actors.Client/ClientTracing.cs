using System.Diagnostics;

namespace Actors.Client;

/// <summary>The client's spans: the root of each traced operation, so that its grain calls join one trace.</summary>
public static class ClientTracing
{
    public const string SourceName = "Actors.Client";

    public static readonly ActivitySource Source = new(SourceName);
}
