using System.Net;

namespace Actors.Silo;

/// <summary>
/// One silo's identity and endpoints. <paramref name="HostName"/> becomes the silo name, which is how
/// host-pinned grains find their silo; <paramref name="Join"/> is the primary silo's endpoint (null: be it).
/// <paramref name="Redis"/> (a StackExchange.Redis configuration such as <c>127.0.0.1:6379</c>) keeps grain
/// state in Redis, where it outlives any silo; without it, state lives in the silos' memory and a record
/// held by a silo that dies is lost with it.
/// <paramref name="Health"/> is where the HTTP health probes (<c>/healthz</c>, <c>/readyz</c>) listen; null: nowhere.
/// </summary>
public sealed record SiloSettings(string HostName, int SiloPort, int GatewayPort, IPEndPoint? Join, string Backend = "auto", string? Redis = null,
    IPEndPoint? Health = null)
{
    public const string DefaultBackend = "auto";
}
