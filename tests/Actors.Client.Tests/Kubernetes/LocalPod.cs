using System.Globalization;
using k8s.Models;

namespace Actors.Client.Tests.Kubernetes;

/// <summary>
/// A container of a manifest, run as a local process the way the kubelet would start it, with what only the
/// kubelet and the cluster provide replaced by local stand-ins: the downward API's fields (pod name,
/// namespace, pod IP), the container's ports (free loopback ports, so tests never collide), Services (the
/// test's own servers), volume mounts (directories under a temporary root) and "every interface" (loopback:
/// a test on a shared machine listens on nothing else).
/// </summary>
internal sealed class LocalPod(string podName, string podNamespace, string podIp, string volumeRoot)
{
    private const string EveryInterface = "0.0.0.0";

    /// <summary>Container port (as the manifest declares it) to the local port that stands in for it.</summary>
    public Dictionary<int, int> Ports { get; } = [];

    /// <summary>A Service endpoint the manifest names (HOST:PORT) to the local one that stands in for it.</summary>
    public Dictionary<string, string> Services { get; } = [];

    /// <summary>The container's environment as the kubelet would set it, then made local.</summary>
    public Dictionary<string, string> Environment(V1Container container)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (V1EnvVar variable in container.Env ?? [])
        {
            string value = variable.ValueFrom is { } from ? Downward(variable.Name, from) : variable.Value ?? string.Empty;
            Assert.False(value.Contains("$(", StringComparison.Ordinal), $"{variable.Name}: variable references are not supported here");
            environment[variable.Name] = Local(value, container);
        }

        return environment;
    }

    /// <summary>The local stand-in of one value: a port, a Service, a mounted path, or the value itself.</summary>
    private string Local(string value, V1Container container)
    {
        if (value == EveryInterface)
            return "127.0.0.1";
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && Ports.TryGetValue(port, out int local))
            return local.ToString(CultureInfo.InvariantCulture);
        if (Services.TryGetValue(value, out string? service))
            return service;
        foreach (V1VolumeMount mount in container.VolumeMounts ?? [])
        {
            string mountPath = mount.MountPath.TrimEnd('/');
            if (value == mountPath || value.StartsWith(mountPath + "/", StringComparison.Ordinal))
            {
                string directory = Path.Combine(volumeRoot, mountPath.TrimStart('/'));
                Directory.CreateDirectory(directory);
                return Path.Combine(volumeRoot, value.TrimStart('/'));
            }
        }

        return value;
    }

    private string Downward(string name, V1EnvVarSource from)
    {
        Assert.True(from.FieldRef is not null, $"{name}: only fieldRef values are supported here");
        return from.FieldRef.FieldPath switch
        {
            "metadata.name" => podName,
            "metadata.namespace" => podNamespace,
            "status.podIP" => podIp,
            string other => throw new InvalidOperationException($"{name}: fieldRef {other} has no local stand-in"),
        };
    }
}
