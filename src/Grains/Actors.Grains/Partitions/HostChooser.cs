namespace Actors.Grains.Partitions;

/// <summary>
/// Picks the host for a VM: its preferred host if it names one, else the host with the most free memory among those
/// whose backend can run it (an enlightened VM needs the Hyper-V interface, which the KVM backend lacks so far; a VM
/// may require a backend), hosts of its preferred backend first (<see cref="BackendRules"/>).
/// </summary>
public static class HostChooser
{
    /// <summary>The name the KVM backend's hosts report (<see cref="HostInfo.Backend"/>).</summary>
    public const string KvmBackend = "kvm";

    public static string Choose(string vm, VmConfiguration configuration, IReadOnlyCollection<HostInfo> hosts)
    {
        if (configuration.Enlightened)
        {
            if (configuration.PreferredHost is { } asked && hosts.FirstOrDefault(h => h.Host == asked) is { Backend: KvmBackend })
                throw new HypervisorException($"host '{asked}' runs guests on KVM, which does not offer VM '{vm}' the Hyper-V enlightenments yet; choose a host with the software CPU");
            hosts = [.. hosts.Where(h => h.Backend != KvmBackend)];
            if (hosts.Count == 0)
                throw new HypervisorException($"VM '{vm}' needs the Hyper-V enlightenments, which no host's backend offers (KVM does not yet)");
        }

        // The VSP host must be there when the VM starts; a VM on the move keeps it, wherever it goes.
        if (configuration.VspHost is { } vspHost && hosts.All(h => h.Host != vspHost))
            throw new HypervisorException($"unknown VSP host '{vspHost}': no silo of that name is in the cluster");
        // After the VSP host: it serves the VM from wherever it is, whatever its backend.
        hosts = BackendRules.Admissible(vm, configuration, hosts);
        if (configuration.PreferredHost is { } preferred)
        {
            HostInfo host = hosts.FirstOrDefault(h => h.Host == preferred)
                ?? throw new HypervisorException($"unknown host '{preferred}'");
            if (host.MemoryFreeBytes < configuration.MemoryBytes)
                throw new HypervisorException(
                    $"host '{preferred}' has {host.MemoryFreeBytes >> 20} MiB free; VM '{vm}' needs {configuration.MemoryBytes >> 20} MiB");
            return host.Host;
        }

        if (hosts.Count == 0)
            throw new HypervisorException("no hosts have joined the cluster");
        HostInfo roomiest = BackendRules.Preferred(configuration, hosts).OrderByDescending(h => h.MemoryFreeBytes).ThenBy(h => h.Host, StringComparer.Ordinal).First();
        if (roomiest.MemoryFreeBytes < configuration.MemoryBytes)
            throw new HypervisorException(
                $"no host has {configuration.MemoryBytes >> 20} MiB free for VM '{vm}' (most is {roomiest.MemoryFreeBytes >> 20} MiB on '{roomiest.Host}')");
        return roomiest.Host;
    }
}
