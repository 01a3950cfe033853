namespace Actors.Grains;

/// <summary>The key of a <see cref="IVirtualProcessorGrain"/>: VM name and vCPU index.</summary>
public static class VirtualProcessorKey
{
    /// <summary>The key of vCPU <paramref name="index"/> (from 0) of VM <paramref name="vmName"/>: <c>"{vm}/{index}"</c>.</summary>
    public static string Format(string vmName, int index) => $"{vmName}/{index}";

    /// <summary>The VM name and vCPU index of a key <see cref="Format"/> made; the VM name may itself contain '/'.</summary>
    /// <exception cref="HypervisorException">The key does not end in '/' and a non-negative index.</exception>
    public static (string VmName, int Index) Parse(string key)
    {
        int slash = key.LastIndexOf('/');
        if (slash <= 0 || !int.TryParse(key.AsSpan(slash + 1), out int index) || index < 0)
            throw new HypervisorException($"'{key}' is not a virtual processor key (expected VM/INDEX)");
        return (key[..slash], index);
    }
}
