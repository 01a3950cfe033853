using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Actors.Client;

namespace Actors.Hvctl;

/// <summary>
/// <c>hvctl cert create DIR --name ...</c>: a development CA and certificates it issues, as PEM files, for
/// silos and clients to use with --tls-cert/--tls-key/--tls-ca. Runs offline; needs no cluster.
/// </summary>
internal static class CertCommands
{
    public static Command Build(HvctlIo io)
    {
        var directory = new Argument<string>("DIR") { Description = "where the files go: ca.crt and ca.key, then NAME.crt and NAME.key for each --name" };
        var names = new Option<string[]>("--name")
        {
            Description = "a host or user to issue a certificate for (repeatable)",
            HelpName = "name",
            Arity = ArgumentArity.OneOrMore,
            Required = true,
        };
        var days = new Option<int>("--days") { Description = "days the certificates are valid (a new CA is valid for ten years)", DefaultValueFactory = _ => 365, HelpName = "days" };
        var create = new Command("create", "make a development CA in DIR (or use the one there) and issue a certificate for each --name") { directory, names, days };
        create.SetAction(async (parsed, ct) =>
        {
            string dir = parsed.GetRequiredValue(directory);
            int validDays = parsed.GetValue(days);
            if (validDays is < 1 or > 3650)
                throw new UsageException($"bad --days {validDays}: use 1 to 3650");
            string[] issued = parsed.GetRequiredValue(names);
            foreach (string name in issued)
            {
                if (name.Length == 0 || name.Length > 63 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') || name == "ca")
                    throw new UsageException($"bad --name '{name}': use letters, digits, '.', '-' and '_' (and not 'ca')");
            }

            // The CA outlives the certificates it issues, so that later ones get their full --days too.
            using X509Certificate2 authority = OpenOrCreateAuthority(dir, TimeSpan.FromDays(10 * 365), out bool created);
            await io.Out.WriteLineAsync(created ? $"{Path.Combine(dir, "ca.crt")}: new CA" : $"{Path.Combine(dir, "ca.crt")}: CA already there, used").ConfigureAwait(false);
            DateTimeOffset now = DateTimeOffset.UtcNow;
            foreach (string name in issued)
            {
                using X509Certificate2 certificate = DevelopmentCertificates.Issue(authority, name, now.AddMinutes(-1), now.AddDays(validDays));
                DevelopmentCertificates.Write(certificate, dir, name);
                await io.Out.WriteLineAsync($"{Path.Combine(dir, name + ".crt")}: certificate for {name}, key in {name}.key").ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return new Command("cert", "development certificates for mutual TLS between silos and clients") { create };
    }

    private static X509Certificate2 OpenOrCreateAuthority(string directory, TimeSpan validity, out bool created)
    {
        created = !File.Exists(Path.Combine(directory, "ca.crt"));
        if (!created)
        {
            try
            {
                return DevelopmentCertificates.ReadAuthority(directory);
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException)
            {
                throw new UsageException($"'{Path.Combine(directory, "ca.crt")}' and its ca.key cannot be read as a CA: {e.Message}");
            }
        }

        X509Certificate2 authority = DevelopmentCertificates.CreateAuthority("Actors development CA", validity);
        DevelopmentCertificates.Write(authority, directory, "ca");
        return authority;
    }
}
