using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Silo.Web;

namespace Actors.Silo;

/// <summary>
/// Reads <c>--host --silo-port --gateway-port --join --backend --redis --health-port --health-address</c>, each defaulting to its ACTORS_* environment
/// variable, so containers can configure silos without a command line.
/// </summary>
public static class SiloCommandLine
{
    public const string Usage =
        "usage: Actors.Silo --host NAME --silo-port N --gateway-port N [--join HOST:PORT] [--backend auto|kvm|emulator] [--redis HOST:PORT]"
        + " [--health-port N [--health-address IP]]";

    public static SiloSettings Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["--host"] = environment("ACTORS_HOST"),
            ["--silo-port"] = environment("ACTORS_SILO_PORT"),
            ["--gateway-port"] = environment("ACTORS_GATEWAY_PORT"),
            ["--join"] = environment("ACTORS_JOIN"),
            ["--backend"] = environment("ACTORS_BACKEND"),
            ["--redis"] = environment("ACTORS_REDIS"),
            ["--health-port"] = environment("ACTORS_HEALTH_PORT"),
            ["--health-address"] = environment("ACTORS_HEALTH_ADDRESS"),
        };
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (!values.ContainsKey(name))
                throw new SiloConfigurationException($"unknown option '{name}'; {Usage}");
            if (i + 1 >= args.Count)
                throw new SiloConfigurationException($"option {name} needs a value; {Usage}");
            values[name] = args[++i];
        }

        string host = HostName(Required(values, "--host", "ACTORS_HOST"));
        int siloPort = Port(Required(values, "--silo-port", "ACTORS_SILO_PORT"), "--silo-port");
        int gatewayPort = Port(Required(values, "--gateway-port", "ACTORS_GATEWAY_PORT"), "--gateway-port");
        IPEndPoint? join = string.IsNullOrWhiteSpace(values["--join"]) ? null : Endpoint(values["--join"]!);
        string backend = string.IsNullOrWhiteSpace(values["--backend"]) ? SiloSettings.DefaultBackend : values["--backend"]!;
        string? redis = string.IsNullOrWhiteSpace(values["--redis"]) ? null : values["--redis"];
        IPEndPoint? health = HealthEndpointOption.Parse(values["--health-port"], values["--health-address"]);
        return new SiloSettings(host, siloPort, gatewayPort, join, backend, redis, Health: health);
    }

    /// <summary>Letters, digits, '.', '-' and '_': a host name is part of grain keys (a VM worker's is "host/vm").</summary>
    private static string HostName(string name) =>
        name.Length <= 63 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')
            ? name
            : throw new SiloConfigurationException($"--host '{name}' must be at most 63 letters, digits, '.', '-' or '_'");

    private static string Required(Dictionary<string, string?> values, string option, string variable) =>
        string.IsNullOrWhiteSpace(values[option])
            ? throw new SiloConfigurationException($"missing {option} (or {variable}); {Usage}")
            : values[option]!;

    private static int Port(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is >= 1 and <= 65535
            ? port
            : throw new SiloConfigurationException($"{option} '{text}' is not a TCP port (1-65535)");

    /// <summary>HOST:PORT where HOST is an IP address or a name resolved now (Orleans wants an address).</summary>
    public static IPEndPoint Endpoint(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0)
            throw new SiloConfigurationException($"--join '{text}' is not HOST:PORT");
        string host = text[..colon].Trim('[', ']');
        int port = Port(text[(colon + 1)..], "--join port");
        if (IPAddress.TryParse(host, out IPAddress? address))
            return new IPEndPoint(address, port);
        try
        {
            IPAddress[] addresses = Dns.GetHostAddresses(host);
            IPAddress chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? addresses.FirstOrDefault()
                ?? throw new SiloConfigurationException($"--join host '{host}' has no address");
            return new IPEndPoint(chosen, port);
        }
        catch (SocketException e)
        {
            throw new SiloConfigurationException($"--join host '{host}' cannot be resolved: {e.Message}");
        }
    }
}
