using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Xunit;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>
/// Mutual TLS through real processes: certificates made by <c>hvctl cert create</c>, a silo that demands them,
/// and clients and silos it accepts or refuses (no certificate, another CA's, an expired one, a CA that does not
/// vouch for the silo, only some of the files).
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class ClusterTlsTests : IDisposable
{
    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("actors-tls-test-");

    public void Dispose() => _files.Delete(recursive: true);

    [Fact]
    public async Task A_silo_with_certificates_serves_clients_of_its_CA_and_refuses_everyone_else_with_one_line()
    {
        string ours = Path.Combine(_files.FullName, "ours");
        string theirs = Path.Combine(_files.FullName, "theirs");
        ProcessResult made = await HvctlAsync("cert", "create", ours, "--name", "tls-a", "--name", "operator");
        Assert.Equal(0, made.ExitCode);
        Assert.Equal(0, (await HvctlAsync("cert", "create", theirs, "--name", "rogue", "--name", "intruder")).ExitCode);
        Assert.Contains("new CA", made.Out);
        // A second create in the same directory issues from the CA there.
        ProcessResult more = await HvctlAsync("cert", "create", ours, "--name", "operator-2");
        Assert.Equal(0, more.ExitCode);
        Assert.Contains("CA already there, used", more.Out);

        int[] ports = LoopbackPorts.Free(4);
        string gateway = $"127.0.0.1:{ports[1]}";
        using Process silo = StartTlsSilo("tls-a", ports[0], ports[1], null, ours);
        Process? rogue = null;
        try
        {
            string[] operatorTls = Tls(ours, "operator", ours);
            await WaitForGatewayAsync(gateway, "tls-a", operatorTls);
            ProcessResult second = await HvctlAsync(["host", "list", "--gateway", gateway, .. Tls(ours, "operator-2", ours)]);
            Assert.Equal(0, second.ExitCode);

            ProcessResult plain = await HvctlAsync("host", "list", "--gateway", gateway, "--connect-timeout", "10");
            Assert.Equal((1, $"hvctl: gateway {gateway} refused this client: it requires TLS; give --tls-cert, --tls-key and --tls-ca (or ACTORS_TLS_CERT, ACTORS_TLS_KEY, ACTORS_TLS_CA)"), (plain.ExitCode, plain.Error.Trim()));

            string refused = $"hvctl: gateway {gateway} refused this client: it does not trust this client's certificate, this client does not trust its certificate (check --tls-ca), it does not use TLS, or it is still starting";
            // A client of another CA: the gateway does not trust it, nor it the gateway.
            ProcessResult intruder = await HvctlAsync(["host", "list", "--gateway", gateway, "--connect-timeout", "10", .. Tls(theirs, "intruder", theirs)]);
            Assert.Equal((1, refused), (intruder.ExitCode, intruder.Error.Trim()));
            // A certificate that is not from the CA it is given with is refused before connecting.
            ProcessResult misled = await HvctlAsync(["host", "list", "--gateway", gateway, .. Tls(ours, "operator", theirs)]);
            Assert.Equal(2, misled.ExitCode);
            Assert.StartsWith($"hvctl: certificate '{Path.Combine(ours, "operator.crt")}' is not issued by the trusted CA", misled.Error);

            // An expired certificate: hvctl says so before it connects, and the silo refuses it anyway.
            using X509Certificate2 authority = DevelopmentCertificates.ReadAuthority(ours);
            using X509Certificate2 expired = DevelopmentCertificates.Issue(authority, "late", authority.NotBefore, DateTimeOffset.UtcNow.AddSeconds(-1));
            DevelopmentCertificates.Write(expired, ours, "late");
            ProcessResult late = await HvctlAsync(["host", "list", "--gateway", gateway, .. Tls(ours, "late", ours)]);
            Assert.Equal(2, late.ExitCode);
            Assert.Matches($@"^hvctl: certificate '.*late\.crt' expired on 20\d\d-", late.Error.Trim());
            Assert.False(await HandshakeHoldsAsync(ports[1], expired), "the gateway kept a connection with an expired client certificate");
            using X509Certificate2 foreign = X509Certificate2.CreateFromPemFile(Path.Combine(theirs, "intruder.crt"), Path.Combine(theirs, "intruder.key"));
            Assert.False(await HandshakeHoldsAsync(ports[1], foreign), "the gateway kept a connection with another CA's client certificate");
            using X509Certificate2 valid = X509Certificate2.CreateFromPemFile(Path.Combine(ours, "operator.crt"), Path.Combine(ours, "operator.key"));
            Assert.True(await HandshakeHoldsAsync(ports[1], valid), "the gateway dropped a connection with a valid client certificate");

            ProcessResult half = await HvctlAsync("host", "list", "--gateway", gateway, "--tls-cert", Path.Combine(ours, "operator.crt"));
            Assert.Equal((2, "hvctl: TLS needs all of --tls-cert, --tls-key and --tls-ca; only 1 of them given"), (half.ExitCode, half.Error.Trim()));

            // A silo with another CA's certificate never becomes a member.
            rogue = StartTlsSilo("rogue", ports[2], ports[3], ports[0], theirs);
            await Task.Delay(TimeSpan.FromSeconds(20));
            ProcessResult hosts = await HvctlAsync(["host", "list", "--gateway", gateway, .. operatorTls]);
            Assert.Equal(0, hosts.ExitCode);
            Assert.DoesNotContain("rogue", hosts.Out);
            Assert.False(silo.HasExited);
        }
        finally
        {
            if (rogue is not null)
                await ClusterMembershipTests.StopAsync(rogue);
            await ClusterMembershipTests.StopAsync(silo);
            rogue?.Dispose();
        }
    }

    [Fact]
    public async Task A_silo_refuses_to_start_with_TLS_files_it_cannot_use()
    {
        string ours = Path.Combine(_files.FullName, "ours");
        Assert.Equal(0, (await HvctlAsync("cert", "create", ours, "--name", "a", "--name", "b")).ExitCode);
        int[] ports = LoopbackPorts.Free(2);

        ProcessStartInfo missing = SiloStartInfo("bad-tls", ports[0], ports[1]);
        foreach (string arg in Tls(ours, "a", ours))
            missing.ArgumentList.Add(arg.Replace("a.key", "nope.key", StringComparison.Ordinal));
        (int noKeyExit, string noKeyError) = await SiloProcess.RunToExitAsync(missing);
        Assert.Equal((2, $"Actors.Silo: key file '{Path.Combine(ours, "nope.key")}' not found"), (noKeyExit, noKeyError.Trim()));

        ProcessStartInfo mismatched = SiloStartInfo("bad-tls", ports[0], ports[1]);
        foreach (string arg in Tls(ours, "a", ours))
            mismatched.ArgumentList.Add(arg.Replace("a.key", "b.key", StringComparison.Ordinal));
        (int wrongKeyExit, string wrongKeyError) = await SiloProcess.RunToExitAsync(mismatched);
        Assert.Equal(2, wrongKeyExit);
        Assert.StartsWith($"Actors.Silo: certificate '{Path.Combine(ours, "a.crt")}' with key '{Path.Combine(ours, "b.key")}' cannot be used", wrongKeyError);
    }

    private static string[] Tls(string certificates, string name, string authority) =>
        ["--tls-cert", Path.Combine(certificates, name + ".crt"), "--tls-key", Path.Combine(certificates, name + ".key"), "--tls-ca", Path.Combine(authority, "ca.crt")];

    private static Process StartTlsSilo(string host, int siloPort, int gatewayPort, int? joinSiloPort, string certificates)
    {
        ProcessStartInfo start = SiloStartInfo(host, siloPort, gatewayPort, joinSiloPort);
        foreach (string arg in Tls(certificates, host, certificates))
            start.ArgumentList.Add(arg);
        return Launch(start);
    }

    /// <summary>
    /// Whether the gateway keeps a TLS connection on which this side showed <paramref name="certificate"/>: a
    /// gateway that refuses the certificate ends the connection right after the handshake.
    /// </summary>
    private static async Task<bool> HandshakeHoldsAsync(int gatewayPort, X509Certificate2 certificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", gatewayPort);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "tls-a",
                ClientCertificates = [certificate],
            });
            var buffer = new byte[256];
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return await tls.ReadAsync(buffer, wait.Token) > 0;
        }
        catch (OperationCanceledException)
        {
            return true; // still open, waiting for this side's preamble
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }
}
