using System.Globalization;
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
    public static readonly IPAddress DefaultAddress = IPAddress.Loopback;

    /// <summary>The endpoint, or null when <paramref name="port"/> is absent; throws <see cref="SiloConfigurationException"/> for a bad value.</summary>
    public static IPEndPoint? Parse(string? port, string? address)
    {
        if (string.IsNullOrWhiteSpace(port))
        {
            return string.IsNullOrWhiteSpace(address)
                ? null
                : throw new SiloConfigurationException($"--health-address '{address}' needs --health-port (or ACTORS_HEALTH_PORT)");
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 65535)
            throw new SiloConfigurationException($"--health-port '{port}' is not a TCP port (1-65535)");
        if (string.IsNullOrWhiteSpace(address))
            return new IPEndPoint(DefaultAddress, number);
        return IPAddress.TryParse(address, out IPAddress? parsed)
            ? new IPEndPoint(parsed, number)
            : throw new SiloConfigurationException($"--health-address '{address}' is not an IP address (for example 127.0.0.1 or 0.0.0.0)");
    }
}
