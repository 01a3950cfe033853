using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Actors.Grains.Security;

/// <summary>
/// What a silo or a client shows and trusts on the cluster's TLS connections: its own certificate with its
/// private key, and the one certificate authority whose certificates it accepts from the other end. Both ends
/// must show a certificate (mutual TLS). Names in certificates are not checked: silos are reached by address,
/// and the authority vouches for whoever holds one of its certificates.
/// </summary>
public sealed class TlsCredentials : IDisposable
{
    private TlsCredentials(X509Certificate2 certificate, X509Certificate2 authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    /// <summary>
    /// The environment variable with the path of this end's certificate (PEM); with <see cref="KeyVariable"/> and
    /// <see cref="AuthorityVariable"/>, the three files that hvctl and silos read when no option gives them.
    /// </summary>
    public const string CertificateVariable = "ACTORS_TLS_CERT";
    /// <summary>The environment variable with the path of the private key (PEM) of <see cref="CertificateVariable"/>'s certificate.</summary>
    public const string KeyVariable = "ACTORS_TLS_KEY";
    /// <summary>The environment variable with the path of the CA certificate (PEM) to trust.</summary>
    public const string AuthorityVariable = "ACTORS_TLS_CA";

    /// <summary>This end's certificate, with its private key: what it shows the other end.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate whose certificates this end accepts from the other end.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>
    /// Reads PEM files: a certificate, its private key, and the authority's certificate. Each problem a user can
    /// make (a missing or unreadable file, a key of another certificate, a certificate expired or not from the
    /// authority) throws <see cref="TlsCredentialsException"/> with one line naming it.
    /// </summary>
    /// <param name="certificatePath">This end's certificate (PEM).</param>
    /// <param name="keyPath">The certificate's private key (PEM).</param>
    /// <param name="authorityPath">The CA certificate to trust (PEM or DER).</param>
    /// <exception cref="TlsCredentialsException">A file is missing or unusable, or the certificate is expired or not from the CA.</exception>
    public static TlsCredentials Load(string certificatePath, string keyPath, string authorityPath)
    {
        X509Certificate2 authority = ReadCertificate(authorityPath, "CA certificate");
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(Existing(certificatePath, "certificate"), Existing(keyPath, "key"));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new TlsCredentialsException($"certificate '{certificatePath}' with key '{keyPath}' cannot be used: {e.Message.TrimEnd('.')} (is the key the certificate's own?)");
        }

        var credentials = new TlsCredentials(certificate, authority);
        if (credentials.Check(certificate) is { } problem)
            throw new TlsCredentialsException($"certificate '{certificatePath}' {problem}");
        return credentials;
    }

    /// <summary>
    /// The three paths, all or none (null); only some of them throws, since a half-configured TLS would silently
    /// fall back to plain TCP. <paramref name="names"/> says how the user gives them, for the error.
    /// </summary>
    /// <param name="certificatePath">This end's certificate (PEM), or null.</param>
    /// <param name="keyPath">Its private key (PEM), or null.</param>
    /// <param name="authorityPath">The CA certificate to trust, or null.</param>
    /// <param name="names">How the user gives the three, as the error should name them ("--tls-cert, --tls-key and --tls-ca").</param>
    /// <returns>The credentials, or null when no path is given (plain TCP).</returns>
    /// <exception cref="TlsCredentialsException">Only some paths are given, or <see cref="Load"/> refuses the files.</exception>
    public static TlsCredentials? From(string? certificatePath, string? keyPath, string? authorityPath, string names)
    {
        int given = new[] { certificatePath, keyPath, authorityPath }.Count(p => !string.IsNullOrWhiteSpace(p));
        if (given == 0)
            return null;
        if (given < 3)
            throw new TlsCredentialsException($"TLS needs all of {names}; only {given} of them given");
        return Load(certificatePath!, keyPath!, authorityPath!);
    }

    /// <summary>Whether the other end's certificate is one to accept: null if so, else why not.</summary>
    /// <param name="remote">The certificate the other end showed, or null if it showed none.</param>
    /// <returns>Null for a certificate that is valid now and issued by <see cref="Authority"/>; otherwise the end of a sentence that begins with the certificate's name ("expired on ...").</returns>
    public string? Check(X509Certificate2? remote)
    {
        if (remote is null)
            return "is missing: the other end showed no certificate";
        DateTime now = DateTime.Now;
        if (now > remote.NotAfter)
            return $"expired on {remote.NotAfter.ToUniversalTime():u}";
        if (now < remote.NotBefore)
            return $"is not valid before {remote.NotBefore.ToUniversalTime():u}";
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(remote))
        {
            string status = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0));
            return $"is not issued by the trusted CA '{Authority.Subject}'" + (status.Length > 0 ? $" ({status})" : string.Empty);
        }

        return null;
    }

    /// <summary>
    /// Orleans' TLS settings for either end: show <see cref="Certificate"/>, demand the other end's, and accept it
    /// only if <see cref="Check"/> does.
    /// </summary>
    /// <param name="options">The TLS options of an Orleans client or silo, as <c>UseTls</c> passes them.</param>
    public void ApplyTo(TlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (remote, _, _) => Check(remote) is null;
    }

    /// <summary>Releases both certificates and the private key.</summary>
    public void Dispose()
    {
        Certificate.Dispose();
        Authority.Dispose();
    }

    private static X509Certificate2 ReadCertificate(string path, string what)
    {
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(Existing(path, what));
        }
        catch (CryptographicException e)
        {
            throw new TlsCredentialsException($"{what} '{path}' is not a certificate: {e.Message.TrimEnd('.')}");
        }
    }

    private static string Existing(string path, string what) =>
        File.Exists(path) ? path : throw new TlsCredentialsException($"{what} file '{path}' not found");
}
