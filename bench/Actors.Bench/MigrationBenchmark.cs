using System.Globalization;
using Actors.Client;
using Actors.Grains;

namespace Actors.Bench;

/// <summary>
/// <c>migrate</c>: a guest that dirties all its RAM continuously (<c>migrate-verify</c>, 256 MiB by
/// default) is live-migrated between two real silo processes on loopback, then QEMU migrates the same
/// image between two <c>qemu-system-x86_64 -accel tcg</c> processes in the same run. Both with the
/// same downtime limit and no bandwidth cap; both throttle a guest that does not converge. With
/// <c>--tls</c> a second silo pair speaks mutual TLS, and its migrations take turns with the plain ones.
/// </summary>
internal static class MigrationBenchmark
{
    public static async Task<int> RunAsync(MigrationBenchmarkOptions options)
    {
        string image = ClusterBenchmark.GuestPath("migrate-verify.elf");
        var maxDowntime = TimeSpan.FromMilliseconds(options.MaxDowntimeMilliseconds);
        Console.WriteLine($"migrate: migrate-verify with {options.MemoryMiB} MiB, max downtime {maxDowntime.TotalMilliseconds} ms, {options.Runs} run(s) each");

        var ours = new List<MigrationStatus>();
        List<MigrationStatus>? overTls = options.Tls ? [] : null;
        using (BenchCertificates? certificates = options.Tls ? new BenchCertificates() : null)
        {
            await using var plain = await SiloPair.StartAsync("mig", tls: null);
            await using SiloPair? secure = certificates is null ? null : await SiloPair.StartAsync("tls", certificates);
            for (int run = 0; run < options.Runs; run++)
            {
                // Plain and TLS runs take turns, each going first every other time, so that whatever else the
                // machine does in the meantime falls on both alike.
                bool tlsFirst = run % 2 == 1;
                if (secure is not null && tlsFirst)
                    overTls!.Add(await secure.MigrateAsync(run, options, image, maxDowntime));
                ours.Add(await plain.MigrateAsync(run, options, image, maxDowntime));
                if (secure is not null && !tlsFirst)
                    overTls!.Add(await secure.MigrateAsync(run, options, image, maxDowntime));
            }
        }

        var qemu = new List<QemuMigration.Result>();
        for (int run = 0; run < (options.QemuRuns ?? options.Runs); run++)
        {
            var result = QemuMigration.Run(image, options.MemoryMiB, TimeSpan.FromSeconds(2), maxDowntime);
            qemu.Add(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"qemu run {run + 1}: {result.Status}: total {result.TotalMilliseconds:0} ms, downtime {result.DowntimeMilliseconds:0} ms, {result.TransferredBytes / (double)((long)options.MemoryMiB << 20):0.00}x RAM sent"));
        }

        var completed = ours.Where(s => s.State == MigrationState.Completed).ToList();
        if (completed.Count > 0 && qemu.Count > 0)
        {
            double ourDowntime = Median(completed.Select(s => s.Downtime!.Value.TotalMilliseconds));
            double ourTotal = Median(completed.Select(s => s.Elapsed.TotalMilliseconds));
            double ourBytes = Median(completed.Select(s => (double)s.BytesSent / s.MemoryBytes));
            double qemuDowntime = Median(qemu.Select(q => q.DowntimeMilliseconds));
            double qemuTotal = Median(qemu.Select(q => q.TotalMilliseconds));
            double qemuBytes = Median(qemu.Select(q => q.TransferredBytes / (double)((long)options.MemoryMiB << 20)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"migrate: medians: downtime actors {ourDowntime:0.0} ms vs qemu {qemuDowntime:0.0} ms (ratio {ourDowntime / qemuDowntime:0.00}); total actors {ourTotal:0} ms vs qemu {qemuTotal:0} ms (ratio {ourTotal / qemuTotal:0.00}); sent/RAM actors {ourBytes:0.00}x vs qemu {qemuBytes:0.00}x"));
        }
        if (overTls is not null)
        {
            var tlsCompleted = overTls.Where(s => s.State == MigrationState.Completed).ToList();
            if (completed.Count > 0 && tlsCompleted.Count > 0)
            {
                double plainTotal = Median(completed.Select(s => s.Elapsed.TotalMilliseconds));
                double tlsTotal = Median(tlsCompleted.Select(s => s.Elapsed.TotalMilliseconds));
                double plainDowntime = Median(completed.Select(s => s.Downtime!.Value.TotalMilliseconds));
                double tlsDowntime = Median(tlsCompleted.Select(s => s.Downtime!.Value.TotalMilliseconds));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"migrate: medians with mutual TLS: total {tlsTotal:0} ms vs {plainTotal:0} ms plain (ratio {tlsTotal / plainTotal:0.00}); downtime {tlsDowntime:0.0} ms vs {plainDowntime:0.0} ms plain (ratio {tlsDowntime / plainDowntime:0.00})"));
            }

            if (tlsCompleted.Count != overTls.Count)
                return 1;
        }

        return completed.Count == ours.Count ? 0 : 1;
    }

    /// <summary>Two fresh silo processes, over mutual TLS when given certificates, and a client of theirs.</summary>
    private sealed class SiloPair : IAsyncDisposable
    {
        private readonly SiloProcess _source, _target;
        private readonly HypervisorClient _client;
        private readonly string _label;

        private SiloPair(SiloProcess source, SiloProcess target, HypervisorClient client, string label)
        {
            (_source, _target, _client, _label) = (source, target, client, label);
        }

        public static async Task<SiloPair> StartAsync(string prefix, BenchCertificates? tls)
        {
            var source = SiloProcess.Start($"{prefix}-a", tls: tls);
            var target = SiloProcess.Start($"{prefix}-b", join: source, tls: tls);
            HypervisorClient client = await HypervisorClient.ConnectAsync(source.Gateway, TimeSpan.FromSeconds(60), tls: tls?.Client);
            await Poll(async () => (await client.ListHostsAsync()).Count == 2, "both silos to register");
            return new SiloPair(source, target, client, tls is null ? "actors" : "actors over TLS");
        }

        public async Task<MigrationStatus> MigrateAsync(int run, MigrationBenchmarkOptions options, string image, TimeSpan maxDowntime)
        {
            string vm = $"mig-{run}";
            // Stamping until told to stop, as the QEMU runs below, so it dirties RAM for the whole migration.
            await _client.CreateVmAsync(vm, image, (ulong)options.MemoryMiB << 20, 1, _source.Host,
                firmwareFiles: new Dictionary<string, string> { ["opt/actors/passes"] = "0" });
            await _client.StartVmAsync(vm);
            await Task.Delay(TimeSpan.FromSeconds(2));
            string id = await _client.MigrateVmAsync(vm, _target.Host, MigrationOptions.Default with { MaxDowntime = maxDowntime });
            MigrationStatus status = await _client.WaitForMigrationAsync(id, progress: null);
            Console.WriteLine($"{_label} run {run + 1}: {Describe(status)}");
            if ((await _client.GetVmAsync(vm)).State == VmState.Running)
                await _client.StopVmAsync(vm);
            return status;
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            _target.Dispose();
            _source.Dispose();
        }
    }

    private static string Describe(MigrationStatus s) => s.State == MigrationState.Completed
        ? string.Create(CultureInfo.InvariantCulture,
            $"completed: total {s.Elapsed.TotalMilliseconds:0} ms, downtime {s.Downtime!.Value.TotalMilliseconds:0.0} ms, {s.BytesSent / (double)s.MemoryBytes:0.00}x RAM sent, {s.Pass} passes, throttle {s.ThrottlePercent}%")
        : $"{s.State}: {s.Reason}";

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }

    private static async Task Poll(Func<Task<bool>> done, string what)
    {
        for (int i = 0; i < 300; i++)
        {
            if (await done())
                return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"timed out waiting for {what}");
    }
}
