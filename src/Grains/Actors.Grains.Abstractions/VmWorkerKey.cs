namespace Actors.Grains;

/// <summary>
/// The key of a <see cref="IVmWorkerGrain"/>: <c>"{host}/{vm}"</c>. The host comes first because host
/// names never contain '/' (the silo refuses such a name) while VM names may, and because it is what
/// places the grain. During a live migration the source's and the target's workers of one VM are
/// two grains.
/// </summary>
public static class VmWorkerKey
{
    /// <summary>The key of VM <paramref name="vmName"/>'s worker on <paramref name="host"/>: <c>"{host}/{vm}"</c>.</summary>
    public static string Format(string host, string vmName) => $"{host}/{vmName}";

    /// <summary>The host part of a worker key; a key without '/' (a host-keyed grain's) is all host.</summary>
    public static string HostOf(string key)
    {
        int slash = key.IndexOf('/');
        return slash < 0 ? key : key[..slash];
    }

    /// <summary>The host and VM name of a key <see cref="Format"/> made; everything after the first '/' is the VM's name.</summary>
    /// <exception cref="HypervisorException">The key has no host or no VM name.</exception>
    public static (string Host, string VmName) Parse(string key)
    {
        int slash = key.IndexOf('/');
        if (slash <= 0 || slash == key.Length - 1)
            throw new HypervisorException($"'{key}' is not a VM worker key (expected HOST/VM)");
        return (key[..slash], key[(slash + 1)..]);
    }
}
