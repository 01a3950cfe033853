using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>A host as <c>host list -o json</c> prints each: its backend ("unreachable" for a host that did not answer), cores, memory and the VMs it runs.</summary>
internal sealed record HostView(string Name, string Backend, int Cores, ulong MemoryBytes, ulong MemoryFreeBytes, IReadOnlyList<string> RunningVms)
{
    public static HostView From(HostInfo host) =>
        new(host.Host, host.Backend, host.Cores, host.MemoryTotalBytes, host.MemoryFreeBytes, [.. host.RunningVms.Order(StringComparer.Ordinal)]);
}
