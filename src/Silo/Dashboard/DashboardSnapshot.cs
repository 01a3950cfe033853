namespace Actors.Silo.Dashboard;

/// <summary>
/// What one page of the dashboard shows at a moment: the cluster's hosts, VMs and recent migrations, as read by
/// the silo <paramref name="Silo"/>. <paramref name="Problem"/> says which part could not be read this time (the
/// rest is the last that could), or is null.
/// </summary>
internal sealed record DashboardSnapshot(
    string Silo,
    IReadOnlyList<HostView> Hosts,
    IReadOnlyList<VmView> Vms,
    IReadOnlyList<MigrationView> Migrations,
    string? Problem);
