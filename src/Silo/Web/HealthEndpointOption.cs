using System.Net;

namespace Actors.Silo.Web;

/// <summary>
/// Reads <c>--health-port</c> and <c>--health-address</c> into the endpoint the silo's health probes listen on.
/// Without a port there is no endpoint. The address defaults to loopback, because a probe port open on every
/// interface of a developer's machine is a surprise; in a pod the kubelet probes the pod's IP, so Kubernetes
/// sets the address to 0.0.0.0.
/// </summary>
public static class HealthEndpointOption
{
    public static readonly IPAddress DefaultAddress = WebEndpointOption.DefaultAddress;

    private static readonly WebEndpointOption Option = new("--health-port", "ACTORS_HEALTH_PORT", "--health-address");

    /// <summary>The endpoint, or null when <paramref name="port"/> is absent; throws <see cref="SiloConfigurationException"/> for a bad value.</summary>
    public static IPEndPoint? Parse(string? port, string? address) => Option.Parse(port, address);
}
