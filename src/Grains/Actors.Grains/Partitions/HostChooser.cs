namespace Actors.Grains.Partitions;

/// <summary>
/// Picks the host for a VM: its preferred host if it names one, else the host with the most free memory among those
/// whose backend it admits (a VM may require a backend), hosts of its preferred backend first (<see cref="BackendRules"/>).
/// Every backend runs every VM, enlightened ones included (docs/kvm.md, "Hyper-V enlightenments on KVM").
/// </summary>
public static class HostChooser
{
    public static string Choose(string vm, VmConfiguration configuration, IReadOnlyCollection<HostInfo> hosts)
    {
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
