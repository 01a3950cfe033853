using System.Globalization;

namespace Actors.Samples.Quickstart;

/// <summary>The sample's command line; each option but the image has an environment variable or a default.</summary>
internal sealed record QuickstartArguments(
    string Gateway,
    string Image,
    string VmName,
    string? From,
    string? To,
    TimeSpan Watch,
    string? TlsCertificate,
    string? TlsKey,
    string? TlsAuthority)
{
    public const string Usage =
        "usage: quickstart [--gateway HOST:PORT] [--image FILE] [--name VM] [--from HOST] [--to HOST] [--watch SECONDS] "
        + "[--tls-cert FILE --tls-key FILE --tls-ca FILE]";

    /// <summary>The arguments, or null and one line saying what is wrong with them.</summary>
    public static QuickstartArguments? Parse(string[] args, out string? error)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is not ("--gateway" or "--image" or "--name" or "--from" or "--to" or "--watch" or "--tls-cert" or "--tls-key" or "--tls-ca"))
            {
                error = $"unknown argument '{args[i]}'; {Usage}";
                return null;
            }

            if (i + 1 == args.Length)
            {
                error = $"{args[i]} needs a value; {Usage}";
                return null;
            }

            values[args[i]] = args[++i];
        }

        string? Value(string option, string? variable = null) =>
            values.GetValueOrDefault(option) ?? (variable is null ? null : Environment.GetEnvironmentVariable(variable));

        string watch = Value("--watch") ?? "3";
        if (!double.TryParse(watch, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || seconds is < 0 or > 600)
        {
            error = $"--watch takes seconds from 0 to 600, not '{watch}'";
            return null;
        }

        error = null;
        return new QuickstartArguments(
            Value("--gateway", "ACTORS_GATEWAY") ?? "localhost:30000",
            Value("--image") ?? Path.Combine("guests", "build", "migrate-verify.elf"),
            Value("--name") ?? "quickstart",
            Value("--from"),
            Value("--to"),
            TimeSpan.FromSeconds(seconds),
            Value("--tls-cert", "ACTORS_TLS_CERT"),
            Value("--tls-key", "ACTORS_TLS_KEY"),
            Value("--tls-ca", "ACTORS_TLS_CA"));
    }
}
