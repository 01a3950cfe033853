using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>
/// A host as <c>host list -o json</c> prints each: its backend ("unreachable" for a host that did not answer) and what
/// that backend offers (null for such a host), cores, memory and the VMs it runs.
/// </summary>
internal sealed record HostView(string Name, string Backend, HostCapabilitiesView? Capabilities, int Cores, ulong MemoryBytes, ulong MemoryFreeBytes, IReadOnlyList<string> RunningVms)
{
    public static HostView From(HostInfo host) =>
        new(host.Host, host.Backend, HostCapabilitiesView.From(host.Capabilities), host.Cores, host.MemoryTotalBytes, host.MemoryFreeBytes, [.. host.RunningVms.Order(StringComparer.Ordinal)]);
}

/// <summary>A host's backend capabilities, field by field from <see cref="HostCapabilities"/>.</summary>
internal sealed record HostCapabilitiesView(bool HardwareVirtualization, bool DirtyPageTracking, IReadOnlyList<string> InterruptControllers, int MaxVcpus)
{
    public static HostCapabilitiesView? From(HostCapabilities? capabilities) =>
        capabilities is null
            ? null
            : new(capabilities.HardwareVirtualization, capabilities.DirtyPageTracking, [.. capabilities.InterruptControllers], capabilities.MaxProcessorsPerMachine);
}
