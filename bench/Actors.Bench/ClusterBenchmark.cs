using System.Diagnostics;
using System.Globalization;
using Actors.Client;
using Actors.Grains;

namespace Actors.Bench;

/// <summary>
/// <c>cluster</c>: the actor core measured through a real silo process and a real client over TCP loopback:
/// time from <c>start</c> to the guest's first console byte at the client; idle 16 MiB partitions on one
/// silo and the silo's memory per partition beyond guest RAM; console throughput to the client. Medians.
/// </summary>
internal static class ClusterBenchmark
{
    private const ulong GuestMemory = 16UL << 20;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    public static int Run(ClusterBenchmarkOptions options) => RunAsync(options).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(ClusterBenchmarkOptions options)
    {
        string work = Directory.CreateTempSubdirectory("actors-bench-").FullName;
        try
        {
            (double firstByte, double console) = await MeasureAsync(options, work, tls: null);
            if (options.Tls)
            {
                using var certificates = new BenchCertificates();
                Print("the same with mutual TLS between client and silo:");
                (double tlsFirstByte, double tlsConsole) = await MeasureAsync(options, work, certificates);
                Print($"tls: first-byte median {tlsFirstByte:F1} ms vs {firstByte:F1} ms plain (ratio {tlsFirstByte / firstByte:F2}); console median {tlsConsole:F1} MiB/s vs {console:F1} MiB/s plain (ratio {tlsConsole / console:F2})");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
        return 0;
    }

    /// <summary>The medians of first console byte and console throughput on a fresh silo; the idle partitions on the plain one only.</summary>
    private static async Task<(double FirstByte, double Console)> MeasureAsync(ClusterBenchmarkOptions options, string work, BenchCertificates? tls)
    {
        using var silo = SiloProcess.Start("bench-host", tls: tls);
        await using var client = await HypervisorClient.ConnectAsync(silo.Gateway, TimeSpan.FromSeconds(60), tls: tls?.Client);
        await WaitForHostAsync(client, silo.Host);
        double firstByte = await FirstConsoleByteAsync(client, options.Starts);
        if (tls is null)
            await IdlePartitionsAsync(client, silo, Path.Combine(work, "idle.elf"), options.IdlePartitions);
        double console = await ConsoleThroughputAsync(client, Path.Combine(work, "flood.elf"), options.FloodBytes, options.FloodRuns);
        return (firstByte, console);
    }

    private static async Task<double> FirstConsoleByteAsync(HypervisorClient client, int starts)
    {
        string hello = GuestPath("hello.elf");
        var samples = new List<double>();
        for (int i = 0; i < starts; i++)
        {
            string name = $"first-byte-{i}";
            await client.CreateVmAsync(name, hello, GuestMemory, 1);
            await using (var console = await client.SubscribeConsoleAsync(name))
            {
                var clock = Stopwatch.StartNew();
                await client.StartVmAsync(name);
                await console.WaitForOffsetAsync(1, Step);
                samples.Add(clock.Elapsed.TotalMilliseconds);
            }
            await client.WaitForStateAsync(name, s => s.State is VmState.Off or VmState.Failed, Step);
            await client.DeleteVmAsync(name);
        }
        Print($"first-byte: median={Median(samples):F1} ms min={samples.Min():F1} ms max={samples.Max():F1} ms n={starts} (hello.elf, start call to first console byte at the client)");
        return Median(samples);
    }

    private static async Task IdlePartitionsAsync(HypervisorClient client, SiloProcess silo, string imagePath, int count)
    {
        await File.WriteAllBytesAsync(imagePath, BenchGuests.Idle());
        var perPartition = new List<double>();
        long before = silo.ResidentBytes(), previous = before;
        var names = new List<string>();
        for (int i = 0; i < count; i++)
        {
            string name = $"idle-{i}";
            names.Add(name);
            await client.CreateVmAsync(name, imagePath, GuestMemory, 1);
            await using (var console = await client.SubscribeConsoleAsync(name))
            {
                await client.StartVmAsync(name);
                await console.WaitForOffsetAsync(5, Step); // "idle\n": the guest booted and halted
            }
            long now = silo.ResidentBytes();
            perPartition.Add(now - previous);
            previous = now;
        }
        var running = (await client.ListVmsAsync()).Count(v => v.State == VmState.Running);
        double meanOverhead = ((double)(previous - before) / count) - GuestMemory;
        Print($"partitions: {running} idle 16 MiB guests running on one silo; silo RSS per partition median={Mib(Median(perPartition)):F2} MiB; overhead beyond guest RAM median={Mib(Median(perPartition) - GuestMemory):F2} MiB mean={Mib(meanOverhead):F2} MiB");
        foreach (string name in names)
        {
            await client.StopVmAsync(name);
            await client.DeleteVmAsync(name);
        }
    }

    private static async Task<double> ConsoleThroughputAsync(HypervisorClient client, string imagePath, int bytes, int runs)
    {
        await File.WriteAllBytesAsync(imagePath, BenchGuests.Flood(bytes));
        var samples = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            string name = $"flood-{i}";
            await client.CreateVmAsync(name, imagePath, GuestMemory, 1);
            await using (var console = await client.SubscribeConsoleAsync(name))
            {
                await client.StartVmAsync(name);
                if (!await console.WaitForOffsetAsync(1, Step))
                    throw new BenchUsageException("the flood guest printed nothing");
                var clock = Stopwatch.StartNew();
                if (!await console.WaitForOffsetAsync(bytes, Step))
                    throw new BenchUsageException($"the client received {console.EndOffset} of {bytes} console bytes");
                samples.Add(Mib(bytes) / clock.Elapsed.TotalSeconds);
            }
            await client.WaitForStateAsync(name, s => s.State is VmState.Off or VmState.Failed, Step);
            await client.DeleteVmAsync(name);
        }
        Print($"console: median={Median(samples):F1} MiB/s min={samples.Min():F1} max={samples.Max():F1} over {runs} runs of {Mib(bytes):F0} MiB (guest UART to a client over TCP loopback)");
        return Median(samples);
    }

    private static async Task WaitForHostAsync(HypervisorClient client, string host)
    {
        var deadline = Stopwatch.StartNew();
        while (!(await client.ListHostsAsync()).Any(h => h.Host == host))
        {
            if (deadline.Elapsed > Step) throw new BenchUsageException($"host '{host}' did not register with the cluster");
            await Task.Delay(100);
        }
    }

    internal static string GuestPath(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "guests", "build", file);
            if (File.Exists(candidate)) return candidate;
        }
        throw new BenchUsageException($"guests/build/{file} not found: build the guests with 'make -C guests'");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static double Mib(double bytes) => bytes / (1 << 20);

    private static void Print(string line) => Console.Out.WriteLine(line.ToString(CultureInfo.InvariantCulture));
}
