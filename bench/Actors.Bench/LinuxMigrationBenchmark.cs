using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Actors.Client;
using Actors.Grains;
using Actors.Tests.Shared;

namespace Actors.Bench;

/// <summary>
/// <c>migrate --linux</c>: the stock Debian kernel, its shell busy in a loop that ticks and re-hashes a file in
/// tmpfs, is live-migrated between two real silo processes on loopback, and QEMU migrates the same kernel, initrd
/// and command line between two <c>qemu-system-x86_64 -accel tcg</c> processes in the same run, with the same
/// downtime limit. Each of ours must tick on at the target with no tick skipped or repeated and the file intact.
/// </summary>
internal static partial class LinuxMigrationBenchmark
{
    private const string Init = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t tmpfs tmpfs /tmp
        seq 1 100000 | gzip -1 > /tmp/known
        sha256sum /tmp/known > /tmp/known.sha256
        i=0
        while true; do
          i=$((i + 1))
          echo "tick $i"
          sha256sum -c /tmp/known.sha256 > /dev/null || echo "memory changed at tick $i"
        done
        """;

    /// <summary>How long QEMU's guest runs before its migration: time enough to boot and reach the loop.</summary>
    private static readonly TimeSpan QemuBoot = TimeSpan.FromSeconds(8);

    public static async Task<int> RunAsync(MigrationBenchmarkOptions options)
    {
        var maxDowntime = TimeSpan.FromMilliseconds(options.MaxDowntimeMilliseconds);
        string initrd = StockLinux.InitrdFile(StockLinux.Initrd(Init));
        Console.WriteLine($"migrate: stock Linux busy in its shell, {options.MemoryMiB} MiB, {options.Processors} vCPU(s), max downtime {maxDowntime.TotalMilliseconds} ms, {options.Runs} run(s) each");
        try
        {
            var ours = new List<MigrationStatus>();
            await using (SiloPair pair = await SiloPair.StartAsync("linux-mig", tls: null))
            {
                for (int run = 0; run < options.Runs; run++)
                    ours.Add(await MigrateAsync(pair, run, options, initrd, maxDowntime));
            }

            var qemu = new List<QemuMigration.Result>();
            for (int run = 0; run < (options.QemuRuns ?? options.Runs); run++)
            {
                var result = QemuMigration.Run(
                    [.. QemuMigration.Linux(StockLinux.KernelPath, initrd, StockLinux.CommandLine), "-smp", options.Processors.ToString(CultureInfo.InvariantCulture)],
                    options.MemoryMiB, QemuBoot, maxDowntime);
                qemu.Add(result);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"qemu run {run + 1}: {result.Status}: total {result.TotalMilliseconds:0} ms, downtime {result.DowntimeMilliseconds:0} ms, {result.TransferredBytes / (double)((long)options.MemoryMiB << 20):0.00}x RAM sent"));
            }

            var completed = ours.Where(s => s.State == MigrationState.Completed).ToList();
            if (completed.Count > 0)
            {
                double downtime = MigrationBenchmark.Median(completed.Select(s => s.Downtime!.Value.TotalMilliseconds));
                double total = MigrationBenchmark.Median(completed.Select(s => s.Elapsed.TotalMilliseconds));
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"migrate --linux: medians: downtime actors {downtime:0.0} ms (budget {maxDowntime.TotalMilliseconds:0} ms), total {total:0} ms");
                if (qemu.Count > 0)
                {
                    double qemuDowntime = MigrationBenchmark.Median(qemu.Select(q => q.DowntimeMilliseconds));
                    double qemuTotal = MigrationBenchmark.Median(qemu.Select(q => q.TotalMilliseconds));
                    line += string.Create(CultureInfo.InvariantCulture,
                        $"; qemu downtime {qemuDowntime:0.0} ms, total {qemuTotal:0} ms; ratios downtime {downtime / qemuDowntime:0.00}, total {total / qemuTotal:0.00}");
                }

                Console.WriteLine(line);
            }

            return completed.Count == ours.Count ? 0 : 1;
        }
        finally
        {
            File.Delete(initrd);
        }
    }

    /// <summary>Boots the guest on the pair's source, moves it once its loop ticks, and checks that it ticks on at the target with its file intact.</summary>
    private static async Task<MigrationStatus> MigrateAsync(SiloPair pair, int run, MigrationBenchmarkOptions options, string initrd, TimeSpan maxDowntime)
    {
        string vm = $"linux-mig-{run}";
        var console = new StringBuilder();
        await using ConsoleSubscription subscription = await pair.Client.SubscribeConsoleAsync(vm);
        using var reading = new CancellationTokenSource();
        Task reader = Task.Run(async () =>
        {
            await foreach (ConsoleOutput batch in subscription.ReadAllAsync(reading.Token))
            {
                lock (console)
                    console.Append(Encoding.ASCII.GetString(batch.Data));
            }
        });
        string Text()
        {
            lock (console)
                return console.ToString();
        }

        try
        {
            await pair.Client.CreateVmAsync(vm, StockLinux.KernelPath, (ulong)options.MemoryMiB << 20, options.Processors, pair.Source.Host,
                initrdPath: initrd, commandLine: StockLinux.CommandLine);
            await pair.Client.StartVmAsync(vm);
            await Poll.UntilAsync(() => Task.FromResult(LastTick(Text())), tick => tick >= 3, "the shell's loop to tick", TimeSpan.FromMinutes(3));

            MigrationStatus status = await pair.MigrateAsync(vm, maxDowntime);
            Console.WriteLine($"{pair.Label} run {run + 1}: {MigrationBenchmark.Describe(status)}");
            if (status.State != MigrationState.Completed)
                return status;

            int atMove = LastTick(Text());
            await Poll.UntilAsync(() => Task.FromResult(LastTick(Text())), tick => tick >= atMove + 3, "ticks on the target", TimeSpan.FromMinutes(1));
            string text = Text();
            int[] ticks = [.. Tick().Matches(text).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];
            if (!ticks.SequenceEqual(Enumerable.Range(1, ticks.Length)))
                throw new BenchUsageException($"run {run + 1}: the guest's ticks skip or repeat across the migration: ... {string.Join(' ', ticks.TakeLast(10))}");
            if (text.Contains("memory changed", StringComparison.Ordinal))
                throw new BenchUsageException($"run {run + 1}: the guest's file in tmpfs changed across the migration");
            return status;
        }
        finally
        {
            if ((await pair.Client.GetVmAsync(vm)).State is VmState.Running or VmState.Paused)
                await pair.Client.StopVmAsync(vm);
            await reading.CancelAsync();
            try
            {
                await reader;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static int LastTick(string text) =>
        Tick().Matches(text) is { Count: > 0 } ticks ? int.Parse(ticks[^1].Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"^tick (\d+)\r?$", RegexOptions.Multiline)]
    private static partial Regex Tick();
}
