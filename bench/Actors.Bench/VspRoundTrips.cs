using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Client;
using Actors.Grains;
using Actors.Tests.Shared;

namespace Actors.Bench;

/// <summary>
/// Part of <c>hypercalls</c>: a VMBus channel's round trip from its VSP to a stock Linux guest and
/// back, where the VSP is the VM's own worker, a grain on the VM's silo, or a grain on another
/// silo. Two real silo processes on loopback; one Linux VM at a time (1 vCPU) on the first, whose
/// heartbeat VSP sends a request every second that Linux's hv_utils answers. Each VM's figure is the
/// median, over the heartbeat's last samples, of the host time from request to answer, which takes
/// in the guest's interrupt, hv_utils' callback and its reply; the differences between the three
/// are what serving a channel through grains costs.
/// </summary>
internal static partial class VspRoundTrips
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(3);

    private const string Init = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        insmod /hv_vmbus.ko && insmod /hv_utils.ko
        while true; do sleep 3600; done
        """;

    public static async Task RunAsync(HypercallBenchmarkOptions options)
    {
        string work = Directory.CreateTempSubdirectory("actors-bench-vsp-").FullName;
        try
        {
            string kernel = Path.Combine(work, "vmlinuz"), initrd = Path.Combine(work, "initrd");
            await File.WriteAllBytesAsync(kernel, StockLinux.Kernel());
            await File.WriteAllBytesAsync(initrd, StockLinux.InitrdWithModules(Init, "hv_vmbus.ko", "hv_utils.ko"));
            using var first = SiloProcess.Start("vsp-host-a");
            using var second = SiloProcess.Start("vsp-host-b", join: first);
            await using var client = await HypervisorClient.ConnectAsync(first.Gateway, TimeSpan.FromSeconds(60));
            await WaitForHostsAsync(client, first.Host, second.Host);

            int samples = options.VspSamples;
            Console.WriteLine($"VMBus channel round trips, VSP -> stock Linux (hv_utils heartbeat) -> VSP, VM on {first.Host}: median of the last {samples} requests after {samples} more to warm up");
            (string Case, string? VspHost)[] cases = [("VSP in the VM's worker", null), ($"VSP grain on the VM's silo ({first.Host})", first.Host), ($"VSP grain on another silo ({second.Host})", second.Host)];
            var medians = new List<double>();
            foreach ((string label, string? vspHost) in cases)
            {
                double median = await MeasureAsync(client, kernel, initrd, first.Host, vspHost, samples, options.LinuxMemoryBytes);
                medians.Add(median);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label}: {median:F2} ms"));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  ratios to the VM's worker: grain on its silo {medians[1] / medians[0]:F2}, grain on another silo {medians[2] / medians[0]:F2}"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Boots one VM, waits for 2 × <paramref name="samples"/> answered heartbeats, and returns the median round trip of the last ones in milliseconds.</summary>
    private static async Task<double> MeasureAsync(HypervisorClient client, string kernel, string initrd, string host, string? vspHost, int samples, ulong memoryBytes)
    {
        string name = $"vsp-rtt-{vspHost ?? "worker"}";
        await client.CreateVmAsync(name, kernel, memoryBytes, 1, host, initrdPath: initrd, commandLine: StockLinux.CommandLine, enlightened: true, vspHost: vspHost);
        try
        {
            await client.StartVmAsync(name);
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                VmStatus status = await client.GetVmAsync(name);
                if (status.State != VmState.Running)
                    throw new BenchUsageException($"VM {name} stopped: {status.State} {status.EndReason} {status.FailureReason}");
                Match m = HeartbeatLine().Match(status.Heartbeat ?? "");
                if (m.Success && long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) >= 2 * samples)
                    return double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                if (deadline.Elapsed > Step + TimeSpan.FromSeconds(2 * samples))
                    throw new BenchUsageException($"VM {name}'s heartbeat was not answered {2 * samples} times in time: {status.Heartbeat}");
                await Task.Delay(500);
            }
        }
        finally
        {
            if ((await client.GetVmAsync(name)).State is VmState.Running or VmState.Paused)
                await client.StopVmAsync(name);
            await client.DeleteVmAsync(name);
        }
    }

    private static async Task WaitForHostsAsync(HypervisorClient client, params string[] hosts)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!hosts.All((await client.ListHostsAsync()).Select(h => h.Host).Contains))
        {
            if (deadline.Elapsed > Step)
                throw new BenchUsageException($"hosts {string.Join(", ", hosts)} did not all join the cluster");
            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"^ok, [\d.]+ s ago \((\d+) answers, round trip ([\d.]+) ms\)")]
    private static partial Regex HeartbeatLine();
}
