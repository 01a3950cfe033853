using Actors.Grains.Hosts;
using Actors.Silo;
using k8s;
using k8s.Models;

namespace Actors.Client.Tests.Kubernetes;

/// <summary>
/// The manifests agree with each other and with the silo: ports, names and labels one object refers to in
/// another, what Orleans' Kubernetes hosting needs, and memory enough for the guest RAM a host admits.
/// </summary>
public sealed class ManifestConsistencyTests
{
    private static readonly V1StatefulSet Silos = KubernetesManifests.Single<V1StatefulSet>("base/silo-statefulset.yaml");
    private static readonly V1Container Silo = Silos.Spec.Template.Spec.Containers.Single(c => c.Name == "silo");

    [Fact]
    public void Everything_lives_in_the_actors_namespace()
    {
        Assert.Equal("actors", KubernetesManifests.Single<V1Namespace>("base/namespace.yaml").Metadata.Name);
        foreach (string file in KubernetesManifests.AllFiles().Where(f => !f.EndsWith("namespace.yaml", StringComparison.Ordinal)))
            Assert.All(KubernetesManifests.ReadStrictly(file).Cast<IMetadata<V1ObjectMeta>>(), o => Assert.Equal("actors", o.Metadata.NamespaceProperty));
    }

    [Fact]
    public void The_services_reach_the_silos_on_the_ports_the_silo_is_told_to_use()
    {
        var headless = KubernetesManifests.Single<V1Service>("base/silo-headless-service.yaml");
        var gateway = KubernetesManifests.Single<V1Service>("base/gateway-service.yaml");
        IDictionary<string, string> podLabels = Silos.Spec.Template.Metadata.Labels;

        Assert.Equal(headless.Metadata.Name, Silos.Spec.ServiceName);
        Assert.Equal("None", headless.Spec.ClusterIP);
        Assert.Equal(30000, gateway.Spec.Ports.Single().Port);
        foreach (V1Service service in new[] { headless, gateway })
            Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, podLabels[label.Key]));
        Assert.All(Silos.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, podLabels[label.Key]));

        Assert.Equal(Text(ContainerPort(headless.Spec.Ports.Single().TargetPort)), Value("ACTORS_SILO_PORT"));
        Assert.Equal(Text(ContainerPort(gateway.Spec.Ports.Single().TargetPort)), Value("ACTORS_GATEWAY_PORT"));
        foreach (V1Probe probe in new[] { Silo.StartupProbe, Silo.LivenessProbe, Silo.ReadinessProbe })
            Assert.Equal(Text(ContainerPort(probe.HttpGet.Port)), Value("ACTORS_HEALTH_PORT"));
        Assert.Equal("/healthz", Silo.LivenessProbe.HttpGet.Path);
        Assert.Equal("/readyz", Silo.ReadinessProbe.HttpGet.Path);
        Assert.Equal("0.0.0.0", Value("ACTORS_HEALTH_ADDRESS"));

        var redis = KubernetesManifests.Single<V1Service>("base/redis-service.yaml");
        Assert.Equal($"{redis.Metadata.Name}:{redis.Spec.Ports.Single().Port}", Value("ACTORS_REDIS"));
    }

    [Fact]
    public void Prometheus_is_told_to_scrape_metrics_on_the_silos_health_port()
    {
        IDictionary<string, string> annotations = Silos.Spec.Template.Metadata.Annotations;

        Assert.Equal("true", annotations["prometheus.io/scrape"]);
        Assert.Equal(Value("ACTORS_HEALTH_PORT"), annotations["prometheus.io/port"]);
        Assert.Equal("/metrics", annotations["prometheus.io/path"]);
    }

    [Fact]
    public void Orleans_Kubernetes_hosting_finds_its_pod_its_cluster_and_the_rights_it_needs()
    {
        IDictionary<string, string> podLabels = Silos.Spec.Template.Metadata.Labels;
        Assert.Equal(ActorsSilo.ServiceId, podLabels["orleans/serviceId"]);
        Assert.Equal(ActorsSilo.ClusterId, podLabels["orleans/clusterId"]);
        Assert.Equal(ActorsSilo.ServiceId, Value("ORLEANS_SERVICE_ID"));
        Assert.Equal(ActorsSilo.ClusterId, Value("ORLEANS_CLUSTER_ID"));
        Assert.Equal("metadata.name", FieldRef("POD_NAME"));
        Assert.Equal("metadata.namespace", FieldRef("POD_NAMESPACE"));
        Assert.Equal("status.podIP", FieldRef("POD_IP"));
        // The silo's host name is the pod's, as Orleans' Kubernetes hosting makes the silo name.
        Assert.Equal("metadata.name", FieldRef("ACTORS_HOST"));
        Assert.Equal("status.podIP", FieldRef("ACTORS_ADVERTISE"));
        Assert.Equal("0.0.0.0", Value("ACTORS_LISTEN"));

        IList<object> rbac = KubernetesManifests.ReadStrictly(KubernetesManifests.File("base/silo-rbac.yaml"));
        V1ServiceAccount account = rbac.OfType<V1ServiceAccount>().Single();
        V1Role role = rbac.OfType<V1Role>().Single();
        V1RoleBinding binding = rbac.OfType<V1RoleBinding>().Single();
        Assert.Equal(account.Metadata.Name, Silos.Spec.Template.Spec.ServiceAccountName);
        Assert.Equal((account.Metadata.Name, account.Metadata.NamespaceProperty), (binding.Subjects.Single().Name, binding.Subjects.Single().NamespaceProperty));
        Assert.Equal(("Role", role.Metadata.Name), (binding.RoleRef.Kind, binding.RoleRef.Name));
        V1PolicyRule pods = role.Rules.Single(r => r.Resources.Contains("pods"));
        Assert.Equal([""], pods.ApiGroups);
        Assert.Equal(["delete", "get", "list", "patch", "watch"], pods.Verbs.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_silo_asks_for_memory_enough_for_the_guest_RAM_its_host_admits_and_a_node_cannot_reclaim_it()
    {
        ResourceQuantity request = Silo.Resources.Requests["memory"];
        ResourceQuantity limit = Silo.Resources.Limits["memory"];

        Assert.Equal(request, limit);
        // At least 256 MiB for the silo itself above the default guest RAM budget.
        Assert.True(request.ToInt64() >= (long)HostMemoryOptions.DefaultBudgetBytes + (256L << 20), $"memory request {request} leaves no room for the silo beside {HostMemoryOptions.DefaultBudgetBytes >> 30} GiB of guests");
        Assert.False(Silo.Resources.Limits.ContainsKey("cpu"), "a CPU limit throttles guests' vCPU threads");
    }

    [Fact]
    public void The_TLS_variables_name_the_files_of_the_mounted_TLS_secret()
    {
        V1Volume tls = Silos.Spec.Template.Spec.Volumes.Single(v => v.Secret?.SecretName == "actors-tls");
        string mountPath = Silo.VolumeMounts.Single(m => m.Name == tls.Name).MountPath;

        Assert.Equal("/etc/actors/tls", mountPath);
        Assert.Equal(("/etc/actors/tls/ca.crt", "/etc/actors/tls/tls.crt", "/etc/actors/tls/tls.key"), (Value("ACTORS_TLS_CA"), Value("ACTORS_TLS_CERT"), Value("ACTORS_TLS_KEY")));
    }

    [Fact]
    public void The_kvm_overlay_asks_each_silo_for_dev_kvm_and_the_base_runs_on_the_software_CPU()
    {
        var patch = KubernetesManifests.Single<V1StatefulSet>("kvm/kvm-device.yaml");
        V1Container patched = patch.Spec.Template.Spec.Containers.Single();

        Assert.Equal((Silos.Metadata.Name, Silo.Name), (patch.Metadata.Name, patched.Name));
        Assert.Equal(Silos.Spec.Selector.MatchLabels, patch.Spec.Selector.MatchLabels);
        Assert.Equal(new ResourceQuantity("1"), patched.Resources.Limits["devices.kubevirt.io/kvm"]);
        Assert.False(Silo.Resources.Limits.ContainsKey("devices.kubevirt.io/kvm"));
        Assert.Equal("auto", Value("ACTORS_BACKEND"));
    }

    private static string Value(string name) => Silo.Env.Single(e => e.Name == name).Value;

    private static string FieldRef(string name) => Silo.Env.Single(e => e.Name == name).ValueFrom.FieldRef.FieldPath;

    private static int ContainerPort(IntOrString port) => Silo.Ports.Single(p => p.Name == port.Value).ContainerPort;

    private static string Text(int number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
