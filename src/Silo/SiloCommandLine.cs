using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Grains.Security;
using Actors.HwBackend.Emulation.Tiers;
using Actors.Silo.Web;

namespace Actors.Silo;

/// <summary>
/// Reads <c>--host --silo-port --gateway-port --join --backend --redis --listen --advertise --tls-cert --tls-key --tls-ca --cpu-tier --health-port --health-address --dashboard --dashboard-address</c>, each defaulting to its ACTORS_* environment
/// variable, so containers can configure silos without a command line.
/// </summary>
public static class SiloCommandLine
{
    public const string Usage =
        "usage: Actors.Silo --host NAME --silo-port N --gateway-port N [--join HOST:PORT] [--backend auto|kvm|emulator] [--cpu-tier interpreter|translator] [--redis HOST:PORT] [--listen ADDRESS] [--advertise ADDRESS] [--tls-cert FILE --tls-key FILE --tls-ca FILE]"
        + " [--health-port N [--health-address IP]] [--dashboard PORT [--dashboard-address IP]]";

    private static readonly WebEndpointOption DashboardOption = new("--dashboard", "ACTORS_DASHBOARD_PORT", "--dashboard-address");

    public static SiloSettings Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["--host"] = environment("ACTORS_HOST"),
            ["--silo-port"] = environment("ACTORS_SILO_PORT"),
            ["--gateway-port"] = environment("ACTORS_GATEWAY_PORT"),
            ["--join"] = environment("ACTORS_JOIN"),
            ["--backend"] = environment("ACTORS_BACKEND"),
            ["--cpu-tier"] = environment("ACTORS_CPU_TIER"),
            ["--redis"] = environment("ACTORS_REDIS"),
            ["--listen"] = environment("ACTORS_LISTEN"),
            ["--advertise"] = environment("ACTORS_ADVERTISE"),
            ["--tls-cert"] = environment(TlsCredentials.CertificateVariable),
            ["--tls-key"] = environment(TlsCredentials.KeyVariable),
            ["--tls-ca"] = environment(TlsCredentials.AuthorityVariable),
            ["--health-port"] = environment("ACTORS_HEALTH_PORT"),
            ["--health-address"] = environment("ACTORS_HEALTH_ADDRESS"),
            ["--dashboard"] = environment("ACTORS_DASHBOARD_PORT"),
            ["--dashboard-address"] = environment("ACTORS_DASHBOARD_ADDRESS"),
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
        CpuTier cpuTier = CpuTierOptions.DefaultTier;
        if (!string.IsNullOrWhiteSpace(values["--cpu-tier"]) && !CpuTierOptions.TryParseTier(values["--cpu-tier"], out cpuTier))
            throw new SiloConfigurationException($"--cpu-tier must be interpreter or translator, not '{values["--cpu-tier"]}'");
        string? redis = string.IsNullOrWhiteSpace(values["--redis"]) ? null : values["--redis"];
        IPAddress? listen = string.IsNullOrWhiteSpace(values["--listen"]) ? null : Address(values["--listen"]!, "--listen");
        IPAddress? advertise = string.IsNullOrWhiteSpace(values["--advertise"]) ? null : Address(values["--advertise"]!, "--advertise");
        // Kubernetes sets this in every container it starts.
        bool inKubernetes = !string.IsNullOrEmpty(environment("KUBERNETES_SERVICE_HOST"));
        TlsCredentials? tls;
        try
        {
            tls = TlsCredentials.From(values["--tls-cert"], values["--tls-key"], values["--tls-ca"], "--tls-cert, --tls-key and --tls-ca (or ACTORS_TLS_CERT, ACTORS_TLS_KEY, ACTORS_TLS_CA)");
        }
        catch (TlsCredentialsException e)
        {
            throw new SiloConfigurationException(e.Message);
        }

        // Probes reach the health port where the silo listens, unless told otherwise.
        string? healthAddress = values["--health-address"] ?? (string.IsNullOrWhiteSpace(values["--health-port"]) ? null : listen?.ToString());
        IPEndPoint? health = HealthEndpointOption.Parse(values["--health-port"], healthAddress);
        // The dashboard too: an operator reaches it where the silo listens.
        string? dashboardAddress = values["--dashboard-address"] ?? (string.IsNullOrWhiteSpace(values["--dashboard"]) ? null : listen?.ToString());
        IPEndPoint? dashboard = DashboardOption.Parse(values["--dashboard"], dashboardAddress);
        return new SiloSettings(host, siloPort, gatewayPort, join, backend, redis, listen, advertise, inKubernetes, tls, health, dashboard, cpuTier);
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
        int port = Port(text[(colon + 1)..], "--join port");
        return new IPEndPoint(Address(text[..colon].Trim('[', ']'), "--join host"), port);
    }

    /// <summary>An IP address, or a name resolved now to its first IPv4 address (else its first address).</summary>
    private static IPAddress Address(string text, string option)
    {
        if (IPAddress.TryParse(text, out IPAddress? address))
            return address;
        try
        {
            IPAddress[] addresses = Dns.GetHostAddresses(text);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? addresses.FirstOrDefault()
                ?? throw new SiloConfigurationException($"{option} '{text}' has no address");
        }
        catch (SocketException e)
        {
            throw new SiloConfigurationException($"{option} '{text}' cannot be resolved: {e.Message}");
        }
    }
}
