using System.Net;

namespace Actors.Silo;

/// <summary>
/// One silo's identity and endpoints. <paramref name="HostName"/> becomes the silo name, which is how
/// host-pinned grains find their silo; <paramref name="Join"/> is the primary silo's endpoint (null: be it).
/// </summary>
public sealed record SiloSettings(string HostName, int SiloPort, int GatewayPort, IPEndPoint? Join, string Backend = "auto")
{
    public const string DefaultBackend = "auto";
}
