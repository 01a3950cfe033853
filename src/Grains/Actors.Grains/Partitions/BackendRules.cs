namespace Actors.Grains.Partitions;

/// <summary>
/// What a VM's <see cref="VmConfiguration.Backend"/> means for where it runs: a required backend narrows the hosts
/// to those that run it (and a cluster without one refuses the VM), a preferred one is tried first among the hosts
/// with room. Applied at create (is there such a host at all?), at start (<see cref="HostChooser"/>), to a
/// migration's target, and by the worker on the host itself.
/// </summary>
public static class BackendRules
{
    /// <summary>
    /// The hosts that may run the VM: all of them, or only those of its required backend. A cluster with none is
    /// refused with one line naming the backend and what the hosts run; so is a named host of another backend.
    /// </summary>
    public static IReadOnlyCollection<HostInfo> Admissible(string vm, VmConfiguration configuration, IReadOnlyCollection<HostInfo> hosts)
    {
        if (configuration.Backend is not { Required: true } required)
            return hosts;
        if (configuration.PreferredHost is { } asked && hosts.FirstOrDefault(h => h.Host == asked) is { } named
            && RefusalOn(configuration, named.Host, named.Backend) is { } refusal)
        {
            throw new HypervisorException($"VM '{vm}' cannot start on host '{asked}': {refusal}");
        }

        if (required.RefusalAmong(vm, hosts) is { } none)
            throw new HypervisorException(none);
        return [.. hosts.Where(h => required.Admits(h.Backend))];
    }

    /// <summary>
    /// Among <paramref name="hosts"/>, those of the VM's preferred backend that have room for it; all of them when it
    /// prefers none, or when no host of that backend has room (a preference never keeps a VM from starting).
    /// </summary>
    public static IReadOnlyCollection<HostInfo> Preferred(VmConfiguration configuration, IReadOnlyCollection<HostInfo> hosts)
    {
        if (configuration.Backend is not { Required: false } preference)
            return hosts;
        HostInfo[] roomy = [.. hosts.Where(h => h.Backend == preference.Backend && h.MemoryFreeBytes >= configuration.MemoryBytes)];
        return roomy.Length > 0 ? roomy : hosts;
    }

    /// <summary>Why a host running <paramref name="hostBackend"/> may not run the VM ("it requires ..."), or null when it may.</summary>
    public static string? RefusalOn(VmConfiguration configuration, string host, string hostBackend) =>
        configuration.Backend is { } placement && !placement.Admits(hostBackend)
            ? $"it requires the {placement.Backend} backend, and host '{host}' runs {hostBackend}"
            : null;
}
