using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Actors.Client;

/// <summary>
/// A certificate authority and the certificates it issues, for development and tests (<c>hvctl cert</c>): ECDSA
/// P-256 keys, PEM files. A production cluster's certificates come from the operator's own CA.
/// </summary>
public static class DevelopmentCertificates
{
    /// <summary>A self-signed CA certificate with its key, valid for <paramref name="validity"/> from a minute ago.</summary>
    public static X509Certificate2 CreateAuthority(string name, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-1), now + validity);
    }

    /// <summary>
    /// A certificate for <paramref name="name"/> (a host or a user) signed by <paramref name="authority"/>, good for
    /// both ends of a TLS connection, since a silo is server and client to other silos. Its validity is cut to the
    /// authority's, which no certificate may outlast.
    /// </summary>
    public static X509Certificate2 Issue(X509Certificate2 authority, string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        ArgumentNullException.ThrowIfNull(authority);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        DateTimeOffset authorityStart = authority.NotBefore.ToUniversalTime(), authorityEnd = authority.NotAfter.ToUniversalTime();
        notBefore = notBefore < authorityStart ? authorityStart : notBefore;
        notAfter = notAfter > authorityEnd ? authorityEnd : notAfter;
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using X509Certificate2 issued = request.Create(authority, notBefore, notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes <paramref name="certificate"/> to <c>DIR/NAME.crt</c> and, if it has one, its key to <c>DIR/NAME.key</c> (readable by the owner only).</summary>
    public static void Write(X509Certificate2 certificate, string directory, string name)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, name + ".crt"), certificate.ExportCertificatePem());
        if (certificate.GetECDsaPrivateKey() is { } key)
        {
            var ownerOnly = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                ownerOnly.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new StreamWriter(Path.Combine(directory, name + ".key"), ownerOnly))
                file.Write(key.ExportPkcs8PrivateKeyPem());
            key.Dispose();
        }
    }

    /// <summary>Reads back a CA written by <see cref="Write"/>, with its key, to issue more certificates.</summary>
    public static X509Certificate2 ReadAuthority(string directory, string name = "ca") =>
        X509Certificate2.CreateFromPemFile(Path.Combine(directory, name + ".crt"), Path.Combine(directory, name + ".key"));
}
