using System.Diagnostics;
using Actors.Grains;

namespace Actors.Silo.Dashboard;

/// <summary>
/// Reads what the dashboard shows from the cluster's grains, as <c>hvctl vm list</c>, <c>host list</c> and
/// <c>vm migrations</c> do: the VM and migration catalogs, each host's root partition, and each running
/// enlightened VM for its heartbeat. A part that cannot be read keeps its last value and is named in the
/// snapshot's problem. Called by one caller at a time.
/// </summary>
internal sealed class ClusterSnapshotReader(IClusterClient cluster, string silo, ConsoleTails consoles)
{
    /// <summary>How many of the latest migrations a page lists.</summary>
    public const int MigrationsShown = 20;

    // A part that takes longer is shown as it was, rather than holding up the others.
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);

    // A heartbeat is the guest's answer to a VSP's probe every few seconds; asking each VM more often than this gains nothing.
    private static readonly TimeSpan HeartbeatPeriod = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, string?> _heartbeats = new(StringComparer.Ordinal);
    private readonly Stopwatch _sinceHeartbeats = new();
    private IReadOnlyList<HostInfo> _hosts = [];
    private IReadOnlyList<VmStatus> _vms = [];
    private IReadOnlyList<MigrationStatus> _migrations = [];

    public async Task<DashboardSnapshot> ReadAsync()
    {
        var problems = new List<string>();
        Task<IReadOnlyList<HostInfo>> hosts = ReadHostsAsync();
        Task<IReadOnlyList<VmStatus>> vms = cluster.GetGrain<IVmCatalogGrain>(0).ListAsync();
        Task<IReadOnlyList<MigrationStatus>> migrations = cluster.GetGrain<IMigrationCatalogGrain>(0).ListAsync();
        _hosts = await PartAsync(hosts, _hosts, "hosts", problems).ConfigureAwait(false);
        _vms = await PartAsync(vms, _vms, "VMs", problems).ConfigureAwait(false);
        _migrations = await PartAsync(migrations, _migrations, "migrations", problems).ConfigureAwait(false);
        await ReadHeartbeatsAsync().ConfigureAwait(false);
        try
        {
            // Not cut short like the reads: a subscription still under way would race the next tick's.
            await consoles.FollowAsync(_vms.Select(v => v.Name)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            problems.Add($"consoles ({FirstLine(e.Message)})");
        }

        return new DashboardSnapshot(
            silo,
            [.. _hosts.Select(HostOf)],
            [.. _vms.OrderBy(v => v.Name, StringComparer.Ordinal).Select(VmOf)],
            [.. _migrations.OrderByDescending(m => m.StartedAt).Take(MigrationsShown).Select(MigrationOf)],
            problems.Count == 0 ? null : $"could not read {string.Join(", ", problems)}; showing what was last read");
    }

    /// <summary>Stops following the VMs' consoles.</summary>
    public Task StopAsync() => consoles.StopAsync();

    private async Task<IReadOnlyList<HostInfo>> ReadHostsAsync()
    {
        IReadOnlyList<string> names = await cluster.GetGrain<IHostCatalogGrain>(0).ListAsync().ConfigureAwait(false);
        HostInfo[] hosts = await Task.WhenAll(names.Select(async host =>
        {
            try
            {
                return await cluster.GetGrain<IRootPartitionGrain>(host).GetInfoAsync().WaitAsync(ReadTimeout).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not HypervisorException)
            {
                return HostInfo.Unreachable(host);
            }
        })).ConfigureAwait(false);
        return [.. hosts.OrderBy(h => h.Host, StringComparer.Ordinal)];
    }

    /// <summary>Asks each running enlightened VM for its status, at most once a <see cref="HeartbeatPeriod"/>: the catalog's copy is as old as the VM's last change.</summary>
    private async Task ReadHeartbeatsAsync()
    {
        if (_sinceHeartbeats.IsRunning && _sinceHeartbeats.Elapsed < HeartbeatPeriod)
            return;
        _sinceHeartbeats.Restart();
        List<VmStatus> probed = [.. _vms.Where(v => v.Configuration.Enlightened && v.State is VmState.Running or VmState.Paused)];
        string?[] beats = await Task.WhenAll(probed.Select(async vm =>
        {
            try
            {
                return (await cluster.GetGrain<IPartitionGrain>(vm.Name).GetStatusAsync().WaitAsync(ReadTimeout).ConfigureAwait(false)).Heartbeat;
            }
            catch (Exception)
            {
                return vm.Heartbeat; // ended, deleted or moving meanwhile: the catalog's is the best there is
            }
        })).ConfigureAwait(false);
        _heartbeats.Clear();
        for (int i = 0; i < probed.Count; i++)
            _heartbeats[probed[i].Name] = beats[i];
    }

    private static async Task<T> PartAsync<T>(Task<T> read, T last, string part, List<string> problems)
    {
        try
        {
            return await read.WaitAsync(ReadTimeout).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            problems.Add($"{part} ({FirstLine(e.Message)})");
            return last;
        }
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    private HostView HostOf(HostInfo host)
    {
        int vcpus = _vms.Where(v => v.Host == host.Host && v.State is VmState.Starting or VmState.Running or VmState.Paused or VmState.Stopping)
            .Sum(v => v.Configuration.ProcessorCount);
        return new HostView(host.Host, host.Backend, host.Cores, host.MemoryTotalBytes, host.MemoryFreeBytes, host.RunningVms.Count, vcpus);
    }

    private VmView VmOf(VmStatus vm) => new(
        vm.Name,
        vm.State.ToString(),
        vm.Host,
        vm.Configuration.ProcessorCount,
        vm.Configuration.MemoryBytes,
        vm.Configuration.ImageName ?? vm.Configuration.ImageId[..Math.Min(12, vm.Configuration.ImageId.Length)],
        _heartbeats.TryGetValue(vm.Name, out string? beat) ? beat : vm.Heartbeat,
        vm.FailureReason ?? vm.EndReason,
        consoles.Of(vm.Name));

    private static MigrationView MigrationOf(MigrationStatus m) => new(
        m.Id, m.Vm, m.Source, m.Target, m.State.ToString(), m.Pass, m.PagesRemaining, m.BytesPerSecond, m.DirtyPagesPerSecond,
        m.BytesSent, m.MemoryBytes, m.ThrottlePercent, m.Elapsed.TotalMilliseconds, m.Downtime?.TotalMilliseconds, m.Reason);
}
