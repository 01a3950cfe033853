using k8s;
using k8s.Models;
using YamlDotNet.Core;

namespace Actors.Client.Tests.Kubernetes;

/// <summary>
/// The manifests of <c>k8s/</c> validate against the Kubernetes API schema, with real validators: the JSON
/// schemas of each kind (types, required fields, enumerations, quantities) through node, and the API's typed
/// models for unknown fields. Deliberately broken copies fail both, so a pass means something.
/// </summary>
public sealed class ManifestValidationTests : IDisposable
{
    private readonly DirectoryInfo _copies = Directory.CreateTempSubdirectory("actors-broken-manifests-");

    public void Dispose() => _copies.Delete(recursive: true);

    [Fact]
    public void Every_yaml_file_in_k8s_is_named_by_a_kustomization_and_every_name_is_a_file()
    {
        string[] onDisk = [.. Directory.GetFiles(KubernetesManifests.Root, "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .Order(StringComparer.Ordinal)];
        IReadOnlyList<string> named = KubernetesManifests.AllFiles();

        Assert.All(named, f => Assert.True(File.Exists(f), $"a kustomization names {f}, which does not exist"));
        Assert.Equal(onDisk, named);
    }

    [Fact]
    public async Task Every_manifest_validates_against_the_Kubernetes_schema()
    {
        IReadOnlyList<string> files = KubernetesManifests.AllFiles();

        KubernetesSchemaValidator.Result result = await KubernetesSchemaValidator.ValidateAsync(files);

        Assert.True(result.ExitCode == 0, result.Output);
        string[] validated = [.. result.Output.Split('\n').Where(l => l.StartsWith("ok ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).Order(StringComparer.Ordinal)];
        Assert.Equal(
            ["Namespace/actors", "Role/actors-silo", "RoleBinding/actors-silo", "Service/actors-gateway", "Service/actors-silo", "Service/redis",
             "ServiceAccount/actors-silo", "StatefulSet/actors-silo", "StatefulSet/actors-silo", "StatefulSet/redis"],
            validated);
    }

    [Fact]
    public void Every_manifest_uses_only_fields_the_Kubernetes_API_has()
    {
        foreach (string file in KubernetesManifests.AllFiles())
        {
            IList<object> objects = KubernetesManifests.ReadStrictly(file);
            Assert.True(objects.Count > 0, $"{file} holds no Kubernetes object");
            Assert.All(objects, o => Assert.IsAssignableFrom<IKubernetesObject>(o));
        }
    }

    [Theory]
    [InlineData("containerPort: 11111", "containerPort: eleven", "containerPort must be integer")]
    [InlineData("memory: 8.5Gi", "memory: plenty", "memory must match format \"quantity\"")]
    [InlineData("podManagementPolicy: Parallel", "podManagementPolicy: AllAtOnce", "podManagementPolicy must be equal to one of the allowed values")]
    [InlineData("replicas: 2", "replicas: 3", null)] // the control: a copy changed validly stays valid
    public async Task A_broken_copy_of_the_silo_StatefulSet_fails_schema_validation(string original, string broken, string? reason)
    {
        string copy = await BrokenCopyAsync("base/silo-statefulset.yaml", original, broken);

        KubernetesSchemaValidator.Result result = await KubernetesSchemaValidator.ValidateAsync([copy]);

        if (reason is null)
        {
            Assert.True(result.ExitCode == 0, result.Output);
            return;
        }

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"invalid {copy} StatefulSet/actors-silo: ", result.Output);
        Assert.Contains(reason, result.Output);
    }

    [Fact]
    public async Task A_misspelled_field_fails_the_strict_read()
    {
        string copy = await BrokenCopyAsync("base/silo-statefulset.yaml", "livenessProbe:", "livenesProbe:");

        var e = Assert.ThrowsAny<YamlException>(() => KubernetesManifests.ReadStrictly(copy));

        Assert.Contains("livenesProbe", e.Message);
    }

    [Fact]
    public async Task A_manifest_of_an_unknown_kind_fails_schema_validation()
    {
        string copy = await BrokenCopyAsync("base/gateway-service.yaml", "kind: Service", "kind: Servic");

        KubernetesSchemaValidator.Result result = await KubernetesSchemaValidator.ValidateAsync([copy]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no kind Servic in v1", result.Output);
    }

    /// <summary>A copy of a k8s/ file in a temporary directory with <paramref name="original"/> (which must be there) replaced.</summary>
    private async Task<string> BrokenCopyAsync(string relativePath, string original, string broken)
    {
        string text = await File.ReadAllTextAsync(KubernetesManifests.File(relativePath));
        Assert.Contains(original, text);
        string copy = Path.Combine(_copies.FullName, Path.GetFileName(relativePath));
        await File.WriteAllTextAsync(copy, text.Replace(original, broken, StringComparison.Ordinal));
        return copy;
    }
}
