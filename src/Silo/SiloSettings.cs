using System.Net;
using Actors.Grains.Security;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.Silo;

/// <summary>
/// One silo's identity and endpoints. <paramref name="HostName"/> becomes the silo name, which is how
/// host-pinned grains find their silo; <paramref name="Join"/> is the primary silo's endpoint (null: be it).
/// <paramref name="Redis"/> (a StackExchange.Redis configuration such as <c>127.0.0.1:6379</c>) keeps both
/// the cluster's membership and grain state in Redis, where they outlive any silo; without it the primary
/// silo holds the membership and the silos' memory the state, which dies with the silo that holds it.
/// <paramref name="Listen"/> is the address the silo and gateway ports bind (default 127.0.0.1, or 0.0.0.0 for
/// every interface); <paramref name="Advertise"/> the address other silos and clients reach them at
/// (default: the listen address, which then must be a single one). <paramref name="InKubernetes"/>: the silo
/// runs in a Kubernetes pod and lets Orleans' Kubernetes hosting watch the pods, so that a silo whose pod is
/// gone is declared dead at once (the pod's name must be the host name). <paramref name="Tls"/>: silo-to-silo and
/// gateway connections are mutual TLS with these credentials (null: plain TCP, for embedded clusters and tests).
/// <paramref name="Health"/> is where the HTTP health probes (<c>/healthz</c>, <c>/readyz</c>) listen; null: nowhere.
/// <paramref name="Dashboard"/> is where the web dashboard listens (HTTPS with <paramref name="Tls"/>'s certificates
/// when there are some); null: nowhere. <paramref name="CpuTier"/> is how the software CPU runs the guests of VMs
/// that do not choose (<c>--cpu-tier</c>); it does not apply to KVM.
/// </summary>
public sealed record SiloSettings(
    string HostName,
    int SiloPort,
    int GatewayPort,
    IPEndPoint? Join,
    string Backend = "auto",
    string? Redis = null,
    IPAddress? Listen = null,
    IPAddress? Advertise = null,
    bool InKubernetes = false,
    TlsCredentials? Tls = null,
    IPEndPoint? Health = null,
    IPEndPoint? Dashboard = null,
    CpuTier CpuTier = CpuTierOptions.DefaultTier)
{
    public const string DefaultBackend = "auto";

    public IPAddress ListenAddress => Listen ?? IPAddress.Loopback;

    public IPAddress AdvertisedAddress => Advertise ?? ListenAddress;

    /// <summary>Where the other silos reach this one.</summary>
    public IPEndPoint SiloEndpoint => new(AdvertisedAddress, SiloPort);

    /// <summary>The silo that holds the membership when it is not in Redis: the one joined, or this one.</summary>
    public IPEndPoint PrimaryEndpoint => Join ?? SiloEndpoint;
}
