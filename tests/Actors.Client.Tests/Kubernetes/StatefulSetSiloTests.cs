using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Actors.Grains;
using Actors.Grains.Security;
using Actors.Tests.Shared;
using k8s.Models;

namespace Actors.Client.Tests.Kubernetes;

/// <summary>
/// The silo's build output, started with the environment and arguments the silo StatefulSet gives its
/// container (see <see cref="LocalPod"/> for what stands in for the cluster), becomes ready and serves
/// clients: what Kubernetes would start, started here.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class StatefulSetSiloTests : IDisposable
{
    private const string PodName = "actors-silo-0";

    private readonly DirectoryInfo _volumes = Directory.CreateTempSubdirectory("actors-local-pod-");

    public void Dispose() => _volumes.Delete(recursive: true);

    [Fact]
    public async Task The_silo_started_as_the_StatefulSet_starts_it_becomes_ready_and_lists_its_host_to_a_client()
    {
        var statefulSet = KubernetesManifests.Single<V1StatefulSet>("base/silo-statefulset.yaml");
        var redisService = KubernetesManifests.Single<V1Service>("base/redis-service.yaml");
        V1Container container = statefulSet.Spec.Template.Spec.Containers.Single(c => c.Name == "silo");
        // No command: the image's entry point runs, which is the silo (k8s/Dockerfile).
        Assert.Null(container.Command);
        Assert.Equal(["dotnet", "Actors.Silo.dll"], DockerfileEntryPoint());

        using RedisServer redis = await RedisServer.StartAsync();
        int[] free = LoopbackPorts.Free(container.Ports.Count);
        var pod = new LocalPod(PodName, statefulSet.Metadata.NamespaceProperty, "127.0.0.1", _volumes.FullName);
        for (int i = 0; i < container.Ports.Count; i++)
            pod.Ports[container.Ports[i].ContainerPort] = free[i];
        pod.Services[$"{redisService.Metadata.Name}:{redisService.Spec.Ports.Single().Port}"] = redis.Configuration;
        Dictionary<string, string> environment = pod.Environment(container);
        using TlsCredentials clientTls = IssueTlsSecret(container);

        int health = pod.Ports[Port(container, "health")];
        int gateway = pod.Ports[Port(container, "gateway")];
        await using var silo = SiloProcess.Start(container.Args ?? [], environment);

        string readyz = ProbeUrl(container.ReadinessProbe, health);
        string healthz = ProbeUrl(container.LivenessProbe, health);
        Assert.Equal("ok\n", await silo.WaitForOkAsync(new Uri(readyz)));
        Assert.Equal("ok\n", await silo.WaitForOkAsync(new Uri(healthz)));
        Assert.Equal("ok\n", await silo.WaitForOkAsync(new Uri(ProbeUrl(container.StartupProbe, health))));

        // The silo demands mutual TLS, with the certificates of the secret it mounts.
        await using HypervisorClient client = await HypervisorClient.ConnectAsync($"127.0.0.1:{gateway}", HypervisorClient.DefaultConnectTimeout, tls: clientTls);
        IReadOnlyList<HostInfo> hosts = await client.ListHostsAsync();
        HostInfo host = Assert.Single(hosts);
        Assert.Equal(PodName, host.Host);
        // ACTORS_BACKEND=auto, and a test machine gives the silo no /dev/kvm.
        Assert.Equal("emulator", host.Backend);
    }

    [Fact]
    public void The_silo_build_output_needs_only_the_frameworks_of_the_aspnet_runtime_image()
    {
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Actors.Silo.runtimeconfig.json")));
        JsonElement options = config.RootElement.GetProperty("runtimeOptions");
        IEnumerable<JsonElement> frameworks = options.TryGetProperty("frameworks", out JsonElement many) ? many.EnumerateArray() : [options.GetProperty("framework")];

        Assert.Equal(["Microsoft.AspNetCore.App", "Microsoft.NETCore.App"], frameworks.Select(f => f.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Fills the directory standing in for the TLS secret's mount as <c>kubectl create secret generic --from-file</c>
    /// would from a CA (ca.crt) and the silo's certificate (tls.crt, tls.key); returns a client's credentials from
    /// the same CA.
    /// </summary>
    private TlsCredentials IssueTlsSecret(V1Container container)
    {
        string mount = container.VolumeMounts.Single(m => m.MountPath.Contains("tls", StringComparison.Ordinal)).MountPath;
        string secret = Path.Combine(_volumes.FullName, mount.TrimStart('/'));
        using X509Certificate2 authority = DevelopmentCertificates.CreateAuthority("test CA", TimeSpan.FromDays(1));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 silo = DevelopmentCertificates.Issue(authority, PodName, now.AddMinutes(-1), now.AddDays(1));
        using X509Certificate2 user = DevelopmentCertificates.Issue(authority, "operator", now.AddMinutes(-1), now.AddDays(1));
        DevelopmentCertificates.Write(X509CertificateLoader.LoadCertificate(authority.RawData), secret, "ca");
        DevelopmentCertificates.Write(silo, secret, "tls");
        string client = Path.Combine(_volumes.FullName, "client");
        DevelopmentCertificates.Write(user, client, "operator");
        DevelopmentCertificates.Write(X509CertificateLoader.LoadCertificate(authority.RawData), client, "ca");
        return TlsCredentials.Load(Path.Combine(client, "operator.crt"), Path.Combine(client, "operator.key"), Path.Combine(client, "ca.crt"));
    }

    /// <summary>The exec form of the Dockerfile's ENTRYPOINT.</summary>
    private static string[] DockerfileEntryPoint()
    {
        string line = File.ReadLines(KubernetesManifests.File("Dockerfile")).Single(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal));
        return JsonSerializer.Deserialize<string[]>(line["ENTRYPOINT ".Length..]) ?? [];
    }

    private static int Port(V1Container container, string name) => container.Ports.Single(p => p.Name == name).ContainerPort;

    private static string ProbeUrl(V1Probe probe, int localPort)
    {
        Assert.Equal("health", probe.HttpGet.Port.Value);
        return $"http://127.0.0.1:{localPort}{probe.HttpGet.Path}";
    }
}
