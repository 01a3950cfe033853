using k8s;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Actors.Client.Tests.Kubernetes;

/// <summary>
/// The repository's <c>k8s/</c> folder: its kustomizations, the manifest files they name, and those manifests read
/// into the Kubernetes API's own models (KubernetesClient's, generated from the same OpenAPI spec), strictly: a
/// field the API does not have is an error, as <c>kubectl apply</c>'s field validation makes it.
/// </summary>
internal static class KubernetesManifests
{
    public static string Root { get; } = Path.Combine(HvctlEndToEndTests.RepoRoot(), "k8s");

    /// <summary>The kustomizations a user applies: the base (software CPU, any node) and the KVM overlay.</summary>
    public static IReadOnlyList<string> Kustomizations { get; } = [Path.Combine(Root, "base"), Path.Combine(Root, "kvm")];

    public static string File(string relativePath) => Path.Combine(Root, relativePath);

    /// <summary>The files a kustomization names itself: its resources that are files, and its patches.</summary>
    public static IReadOnlyList<string> FilesOf(string kustomizationDirectory)
    {
        string path = Path.Combine(kustomizationDirectory, "kustomization.yaml");
        Kustomization kustomization = new DeserializerBuilder()
            .WithNamingConvention(CamelCaseNamingConvention.Instance)
            .IgnoreUnmatchedProperties()
            .Build()
            .Deserialize<Kustomization>(System.IO.File.ReadAllText(path));
        IEnumerable<string> named = kustomization.Resources.Concat(kustomization.Patches.Select(p => p.Path ?? $"(a patch without a path in {path})"));
        return [.. named.Select(n => Path.GetFullPath(Path.Combine(kustomizationDirectory, n))).Where(f => !Directory.Exists(f))];
    }

    /// <summary>Every manifest and patch the kustomizations name.</summary>
    public static IReadOnlyList<string> AllFiles() => [.. Kustomizations.SelectMany(FilesOf).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Every object of a file, as the API's typed models; throws on a field the API does not know.</summary>
    public static IList<object> ReadStrictly(string file) => KubernetesYaml.LoadAllFromString(System.IO.File.ReadAllText(file), strict: true);

    /// <summary>The one object of type <typeparamref name="T"/> in a file of k8s/.</summary>
    public static T Single<T>(string relativePath) => ReadStrictly(File(relativePath)).OfType<T>().Single();

    private sealed class Kustomization
    {
        public List<string> Resources { get; set; } = [];

        public List<KustomizationPatch> Patches { get; set; } = [];
    }

    private sealed class KustomizationPatch
    {
        public string? Path { get; set; }
    }
}
