using System.Net;

namespace Actors.Hvctl;

/// <summary>One silo of an <see cref="EmbeddedCluster"/> and where it listens.</summary>
internal sealed record EmbeddedSilo(string Host, IPEndPoint SiloEndpoint, IPEndPoint GatewayEndpoint);
