namespace Actors.Silo.Dashboard;

/// <summary>
/// A host as the dashboard shows it: its backend and memory as its hardware backend reports them, and its load
/// as the vCPUs of the VMs placed on it against its cores. <paramref name="Backend"/> is "unreachable" for a
/// registered host that did not answer.
/// </summary>
internal sealed record HostView(
    string Name,
    string Backend,
    int Cores,
    ulong MemoryTotalBytes,
    ulong MemoryFreeBytes,
    int RunningVms,
    int CommittedVcpus);
