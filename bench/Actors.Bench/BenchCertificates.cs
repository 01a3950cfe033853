using System.Security.Cryptography.X509Certificates;
using Actors.Client;
using Actors.Grains.Security;

namespace Actors.Bench;

/// <summary>
/// A throwaway CA with a certificate for each silo and one for the benchmark's client, in a temporary
/// directory removed on dispose: what the <c>--tls</c> runs give their silos and client.
/// </summary>
internal sealed class BenchCertificates : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("actors-bench-tls-");
    private readonly X509Certificate2 _authority;

    public BenchCertificates()
    {
        _authority = DevelopmentCertificates.CreateAuthority("Actors bench CA", TimeSpan.FromDays(1));
        DevelopmentCertificates.Write(X509CertificateLoader.LoadCertificate(_authority.RawData), _directory.FullName, "ca");
        (string certificate, string key) = Issue("bench-client");
        Client = TlsCredentials.Load(certificate, key, AuthorityPath);
    }

    public TlsCredentials Client { get; }

    private string AuthorityPath => Path.Combine(_directory.FullName, "ca.crt");

    /// <summary>The silo's --tls-* arguments, with a certificate of its own.</summary>
    public string[] SiloArguments(string host)
    {
        (string certificate, string key) = Issue(host);
        return ["--tls-cert", certificate, "--tls-key", key, "--tls-ca", AuthorityPath];
    }

    public void Dispose()
    {
        Client.Dispose();
        _authority.Dispose();
        _directory.Delete(recursive: true);
    }

    private (string Certificate, string Key) Issue(string name)
    {
        string certificate = Path.Combine(_directory.FullName, name + ".crt");
        if (!File.Exists(certificate))
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            using X509Certificate2 issued = DevelopmentCertificates.Issue(_authority, name, _authority.NotBefore, now.AddDays(1));
            DevelopmentCertificates.Write(issued, _directory.FullName, name);
        }

        return (certificate, Path.Combine(_directory.FullName, name + ".key"));
    }
}
