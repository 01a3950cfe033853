using System.CommandLine;
using System.Globalization;
using Actors.Client;
using Actors.Grains.Security;

namespace Actors.Hvctl;

/// <summary>Options every command takes, and the argument checks several commands share.</summary>
internal sealed class CommonOptions
{
    public const string DefaultGateway = "localhost:30000";

    public Option<string?> Gateway { get; } = new("--gateway")
    {
        Description = $"HOST:PORT of a silo's gateway (default: $ACTORS_GATEWAY or {DefaultGateway})",
        HelpName = "host:port",
        Recursive = true,
    };

    public Option<double> ConnectTimeout { get; } = new("--connect-timeout")
    {
        Description = "seconds to wait for the gateway before giving up",
        HelpName = "seconds",
        DefaultValueFactory = _ => HypervisorClient.DefaultConnectTimeout.TotalSeconds,
        Recursive = true,
    };

    public Option<string?> TlsCertificate { get; } = new("--tls-cert")
    {
        Description = $"this client's certificate (PEM) for a cluster that demands TLS (default: ${TlsCredentials.CertificateVariable})",
        HelpName = "file",
        Recursive = true,
    };

    public Option<string?> TlsKey { get; } = new("--tls-key")
    {
        Description = $"the certificate's private key (PEM) (default: ${TlsCredentials.KeyVariable})",
        HelpName = "file",
        Recursive = true,
    };

    public Option<string?> TlsAuthority { get; } = new("--tls-ca")
    {
        Description = $"the CA certificate the cluster's certificates must come from (default: ${TlsCredentials.AuthorityVariable})",
        HelpName = "file",
        Recursive = true,
    };

    /// <summary>The gateway the user asked for, or null when they gave none (run then embeds a cluster).</summary>
    public string? ExplicitGateway(ParseResult parsed) => parsed.GetValue(Gateway);

    public async Task<HypervisorClient> ConnectAsync(ParseResult parsed, CancellationToken cancellationToken)
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("ACTORS_GATEWAY");
        string gateway = ExplicitGateway(parsed)
            ?? (string.IsNullOrWhiteSpace(fromEnvironment) ? DefaultGateway : fromEnvironment);
        return await HypervisorClient.ConnectAsync(gateway, Timeout(parsed), cancellationToken, Tls(parsed)).ConfigureAwait(false);
    }

    /// <summary>The TLS files from the options, each defaulting to its environment variable; null for plain TCP.</summary>
    public TlsCredentials? Tls(ParseResult parsed)
    {
        string? Value(Option<string?> option, string variable) => parsed.GetValue(option) ?? Environment.GetEnvironmentVariable(variable);
        try
        {
            return TlsCredentials.From(
                Value(TlsCertificate, TlsCredentials.CertificateVariable),
                Value(TlsKey, TlsCredentials.KeyVariable),
                Value(TlsAuthority, TlsCredentials.AuthorityVariable),
                "--tls-cert, --tls-key and --tls-ca");
        }
        catch (TlsCredentialsException e)
        {
            throw new UsageException(e.Message);
        }
    }

    public TimeSpan Timeout(ParseResult parsed)
    {
        double seconds = parsed.GetValue(ConnectTimeout);
        if (!(seconds > 0) || seconds > 3600)
            throw new UsageException(
                $"bad --connect-timeout '{seconds.ToString(CultureInfo.InvariantCulture)}': use a number of seconds between 0 and 3600");
        return TimeSpan.FromSeconds(seconds);
    }

    public static ulong ParseMemory(string text)
    {
        if (!SizeParser.TryParse(text, out ulong bytes, out string? error))
            throw new UsageException(error!);
        return bytes;
    }

    /// <summary>Checks the image file exists before anything connects, so a typo costs no cluster round trip.</summary>
    public static string CheckImageFile(string path)
    {
        if (Directory.Exists(path))
            throw new UsageException($"image '{path}' is a directory: give the path of a guest image file, for example guests/build/hello.elf");
        if (!File.Exists(path))
            throw new UsageException($"image file '{path}' not found: give the path of a guest image, for example guests/build/hello.elf");
        return path;
    }

    /// <summary>Memory and vCPU limits as the partition will check them, but before connecting.</summary>
    public static void CheckShape(ulong memoryBytes, int processorCount)
    {
        string? problem = new Actors.Grains.VmConfiguration("unchecked", memoryBytes, processorCount, null).Validate();
        if (problem is not null)
            throw new UsageException(problem);
    }
}
