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
        if (options.Linux)
            return options.Tls ? throw new BenchUsageException("--linux and --tls are separate benchmarks; give one") : await LinuxMigrationBenchmark.RunAsync(options);
        if (options.Processors != 1)
            throw new BenchUsageException("--vcpus is for --linux; migrate-verify runs on one vCPU");
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
                    overTls!.Add(await MigrateVerifyAsync(secure, run, options, image, maxDowntime));
                ours.Add(await MigrateVerifyAsync(plain, run, options, image, maxDowntime));
                if (secure is not null && !tlsFirst)
                    overTls!.Add(await MigrateVerifyAsync(secure, run, options, image, maxDowntime));
            }
        }

        var qemu = new List<QemuMigration.Result>();
        for (int run = 0; run < (options.QemuRuns ?? options.Runs); run++)
        {
            var result = QemuMigration.Run(QemuMigration.MigrateVerify(image), options.MemoryMiB, TimeSpan.FromSeconds(2), maxDowntime);
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

    /// <summary>Runs migrate-verify on <paramref name="pair"/>'s source, stamping until told to stop (as the QEMU runs do, so it dirties RAM for the whole migration), and moves it.</summary>
    private static async Task<MigrationStatus> MigrateVerifyAsync(SiloPair pair, int run, MigrationBenchmarkOptions options, string image, TimeSpan maxDowntime)
    {
        string vm = $"mig-{run}";
        await pair.Client.CreateVmAsync(vm, image, (ulong)options.MemoryMiB << 20, 1, pair.Source.Host,
            firmwareFiles: new Dictionary<string, string> { ["opt/actors/passes"] = "0" });
        await pair.Client.StartVmAsync(vm);
        await Task.Delay(TimeSpan.FromSeconds(2));
        MigrationStatus status = await pair.MigrateAsync(vm, maxDowntime);
        Console.WriteLine($"{pair.Label} run {run + 1}: {Describe(status)}");
        if ((await pair.Client.GetVmAsync(vm)).State == VmState.Running)
            await pair.Client.StopVmAsync(vm);
        return status;
    }

    public static string Describe(MigrationStatus s) => s.State == MigrationState.Completed
        ? string.Create(CultureInfo.InvariantCulture,
            $"completed: total {s.Elapsed.TotalMilliseconds:0} ms, downtime {s.Downtime!.Value.TotalMilliseconds:0.0} ms, {s.BytesSent / (double)s.MemoryBytes:0.00}x RAM sent, {s.Pass} passes, throttle {s.ThrottlePercent}%")
        : $"{s.State}: {s.Reason}";

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }
}
