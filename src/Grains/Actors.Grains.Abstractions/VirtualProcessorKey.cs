namespace Actors.Grains;

/// <summary>The key of a <see cref="IVirtualProcessorGrain"/>: VM name and vCPU index.</summary>
public static class VirtualProcessorKey
{
    public static string Format(string vmName, int index) => $"{vmName}/{index}";

    public static (string VmName, int Index) Parse(string key)
    {
        int slash = key.LastIndexOf('/');
        if (slash <= 0 || !int.TryParse(key.AsSpan(slash + 1), out int index) || index < 0)
            throw new HypervisorException($"'{key}' is not a virtual processor key (expected VM/INDEX)");
        return (key[..slash], index);
    }
}
