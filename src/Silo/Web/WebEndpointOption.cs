using System.Globalization;
using System.Net;

namespace Actors.Silo.Web;

/// <summary>
/// A port option and its address option for one of the silo's HTTP servers (<c>--health-port</c>,
/// <c>--dashboard</c>): without a port there is no endpoint, and the address defaults to loopback.
/// <paramref name="PortVariable"/> is how the environment gives the port, for the message that an address
/// came without one.
/// </summary>
public sealed record WebEndpointOption(string PortOption, string PortVariable, string AddressOption)
{
    public static readonly IPAddress DefaultAddress = IPAddress.Loopback;

    /// <summary>The endpoint, or null when <paramref name="port"/> is absent; throws <see cref="SiloConfigurationException"/> for a bad value.</summary>
    public IPEndPoint? Parse(string? port, string? address)
    {
        if (string.IsNullOrWhiteSpace(port))
        {
            return string.IsNullOrWhiteSpace(address)
                ? null
                : throw new SiloConfigurationException($"{AddressOption} '{address}' needs {PortOption} (or {PortVariable})");
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 65535)
            throw new SiloConfigurationException($"{PortOption} '{port}' is not a TCP port (1-65535)");
        if (string.IsNullOrWhiteSpace(address))
            return new IPEndPoint(DefaultAddress, number);
        return IPAddress.TryParse(address, out IPAddress? parsed)
            ? new IPEndPoint(parsed, number)
            : throw new SiloConfigurationException($"{AddressOption} '{address}' is not an IP address (for example 127.0.0.1 or 0.0.0.0)");
    }
}
