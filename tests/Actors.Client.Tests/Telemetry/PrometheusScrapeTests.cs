using Actors.Tests.Shared;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests.Telemetry;

/// <summary>
/// A real Prometheus scrapes two silo processes' <c>/metrics</c> while a guest runs and moves between them, and
/// its query API then returns our series, labelled as docs/operations.md says.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class PrometheusScrapeTests
{
    [Fact]
    public async Task Prometheus_scrapes_vms_by_state_exits_by_reason_and_the_migration_downtime_histogram()
    {
        await using TwoSiloCluster cluster = await TwoSiloCluster.StartAsync("prom");
        await using PrometheusServer prometheus = await PrometheusServer.StartAsync(cluster.HealthPorts);
        await cluster.StartGuestAsync("scraped");
        ProcessResult migrate = await HvctlAsync("vm", "migrate", "scraped", "--to", cluster.HostB, "--gateway", cluster.Gateway);
        Assert.True(migrate.ExitCode == 0, $"exit {migrate.ExitCode}: {migrate.Out} {migrate.Error}");

        // Both silos are up to Prometheus, each known by its host name.
        await UntilAsync(prometheus, "up", series => series.Count(s => s.Value == 1) == 2);
        // The guest runs on b now: one VM, Running, there. A's last scrape may still predate the migration, so this
        // waits for a scrape of each host after it rather than taking the first answer that shows b.
        var running = await UntilAsync(prometheus, "actors_vm_count", series =>
            series.Any(s => s.Labels["actors_vm_state"] == "Running" && Instance(s) == cluster.HealthPorts[1])
            && series.Where(s => s.Labels["actors_vm_state"] == "Running").Sum(s => s.Value) == 1);
        Assert.DoesNotContain(running, s => s.Labels["actors_vm_state"] == "Running" && s.Value > 0 && Instance(s) != cluster.HealthPorts[1]);
        // Its exits on both hosts, by reason (the guest's serial output is port I/O).
        var exits = await UntilAsync(prometheus, "sum by (actors_vcpu_exit_reason) (actors_vcpu_exits_total)", series => series.Count > 0);
        Assert.Contains(exits, s => s.Value > 0 && s.Labels.ContainsKey("actors_vcpu_exit_reason"));
        // One completed migration in the downtime histogram: every bucket from its downtime up counts it.
        var buckets = await UntilAsync(prometheus, "sum by (le) (actors_migration_downtime_seconds_bucket)", series => series.Any(s => s.Value > 0));
        Assert.Equal([0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, double.PositiveInfinity], buckets.Select(Bound).Order());
        Assert.Equal(1, buckets.Single(s => Bound(s) == double.PositiveInfinity).Value);
        var count = await UntilAsync(prometheus, "sum by (actors_migration_outcome) (actors_migration_duration_seconds_count)", series => series.Count > 0);
        Assert.Equal(1, Assert.Single(count, s => s.Labels["actors_migration_outcome"] == "completed").Value);
        var sent = await UntilAsync(prometheus, "sum(actors_migration_io_bytes_total)", series => series.Count > 0);
        Assert.True(sent.Single().Value >= 64 << 20, $"{sent.Single().Value} bytes sent for a 64M guest");
    }

    /// <summary>A bucket's upper bound (Prometheus writes them as "0.001", "1.0", "+Inf").</summary>
    private static double Bound((IReadOnlyDictionary<string, string> Labels, double Value) bucket) =>
        double.Parse(bucket.Labels["le"].Replace("+Inf", "Infinity", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);

    private static int Instance((IReadOnlyDictionary<string, string> Labels, double Value) series) =>
        int.Parse(series.Labels["instance"].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Queries until the answer satisfies <paramref name="done"/>: a scrape a second, so within half a minute.</summary>
    private static Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> UntilAsync(
        PrometheusServer prometheus, string promql, Func<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>, bool> done) =>
        Poll.UntilAsync(() => prometheus.QueryAsync(promql), done, $"Prometheus to answer {promql}", TimeSpan.FromSeconds(30));
}
