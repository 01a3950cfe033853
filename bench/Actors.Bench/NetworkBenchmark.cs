using System.Diagnostics;
using System.Globalization;
using Actors.Client;
using Actors.Grains;
using Actors.Tests.Shared;

namespace Actors.Bench;

/// <summary>
/// <c>network</c>: VM-to-VM throughput and round-trip time seen from inside stock Linux
/// (<see cref="NetworkWorkload"/>), two guests on one network, on our virtual switch beside QEMU
/// TCG's virtio-net, run after run in one process so all see the same machine. Same kernel, command
/// line, RAM and 1 vCPU for every guest:
/// <list type="bullet">
/// <item>QEMU: two <c>qemu-system-x86_64 -accel tcg</c> processes, each with a virtio-net-pci
/// adapter, joined by <c>-netdev socket</c> over loopback TCP (the receiver listens, the sender
/// connects);</item>
/// <item>ours, two hosts: two silo processes and one virtual switch, the receiver VM on the first
/// host and the sender on the second, enlightened (hv_netvsc), so every frame crosses silos
/// through the switch grain;</item>
/// <item>ours, one host: both VMs on the first host's silo, on the same switch.</item>
/// </list>
/// Both guests of a configuration share the machine's cores, on every side. Each figure is the
/// median over runs.
/// </summary>
internal static class NetworkBenchmark
{
    private const string Qemu = "QEMU virtio-net";
    private const string TwoHosts = "ours, two hosts";
    private const string OneHost = "ours, one host";
    private const string Switch = "net-bench";

    private static readonly string[] Measures = ["throughput", "ping avg", "ping min"];

    public static int Run(NetworkBenchmarkOptions options) => RunAsync(options).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(NetworkBenchmarkOptions options)
    {
        QemuReference.EnsureAvailable("install QEMU (qemu-system-x86): the network benchmark compares against it");
        Console.WriteLine($"$ {BenchReport.CommandLine()}");
        Console.WriteLine($"network: two stock Linux VMs ({Path.GetFileName(StockLinux.KernelPath)}, \"{StockLinux.CommandLine}\"), 1 vCPU and {options.MemoryBytes >> 20} MiB each; the sender pings the receiver {options.Pings} times 0.2 s apart, then sends it {options.TransferMiB} MiB with busybox nc; {options.Runs} run(s), medians");
        string work = Directory.CreateTempSubdirectory("actors-bench-network-").FullName;
        try
        {
            var files = new Files(work);
            await File.WriteAllBytesAsync(files.Kernel, StockLinux.Kernel());
            await File.WriteAllBytesAsync(files.OurSender, StockLinuxInit.Initrd(NetworkWorkload.Sender(NetworkWorkload.HyperVModules, options), NetworkWorkload.HyperVModules));
            await File.WriteAllBytesAsync(files.OurReceiver, StockLinuxInit.Initrd(NetworkWorkload.Receiver(NetworkWorkload.HyperVModules, options), NetworkWorkload.HyperVModules));
            await File.WriteAllBytesAsync(files.QemuSender, StockLinuxInit.Initrd(NetworkWorkload.Sender(NetworkWorkload.VirtioModules, options), NetworkWorkload.VirtioModules));
            await File.WriteAllBytesAsync(files.QemuReceiver, StockLinuxInit.Initrd(NetworkWorkload.Receiver(NetworkWorkload.VirtioModules, options), NetworkWorkload.VirtioModules));
            var results = new Dictionary<string, List<NetworkFigures>> { [Qemu] = [], [TwoHosts] = [], [OneHost] = [] };
            await ClusterGuest.WithOneLineFailuresAsync(() => RunAllAsync(options, files, results));

            Report(options, results);
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The three configurations run after run, so a machine whose load changes affects each alike.</summary>
    private static async Task RunAllAsync(NetworkBenchmarkOptions options, Files files, Dictionary<string, List<NetworkFigures>> results)
    {
        using var first = SiloProcess.Start("net-bench-a");
        using var second = SiloProcess.Start("net-bench-b", join: first);
        await using var client = await HypervisorClient.ConnectAsync(first.Gateway, TimeSpan.FromSeconds(60));
        await ClusterGuest.WaitForHostsAsync(client, first.Host, second.Host);
        await client.CreateSwitchAsync(Switch);
        for (int run = 1; run <= options.Runs; run++)
        {
            Record(options, results, Qemu, run, await RunQemuAsync(options, files, run));
            Record(options, results, TwoHosts, run, await RunOursAsync(client, options, files, first.Host, second.Host, TwoHosts, run));
            Record(options, results, OneHost, run, await RunOursAsync(client, options, files, first.Host, first.Host, OneHost, run));
        }

        // Only after every run: a VM that could not be deleted keeps its port plugged in, and the refusal would hide why.
        await client.DeleteSwitchAsync(Switch);
    }

    private static void Record(NetworkBenchmarkOptions options, Dictionary<string, List<NetworkFigures>> results, string who, int run, (NetworkFigures Figures, TimeSpan Sender, TimeSpan Receiver) outcome)
    {
        NetworkFigures f = outcome.Figures;
        results[who].Add(f);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{who}, run {run}: {options.TransferMiB} MiB in {f.Seconds:F2} s, {Throughput(options, f):F1} MiB/s; ping avg {f.PingAverageMs:F3} ms, min {f.PingMinimumMs:F3} ms, {f.PingsAnswered}/{f.PingsSent} answered; TCP resent {f.TcpResent} segments, {f.TcpTimeouts} timeouts (sender {outcome.Sender.TotalSeconds:F0} s, receiver {outcome.Receiver.TotalSeconds:F0} s from start to power-off)"));
    }

    private static async Task<(NetworkFigures, TimeSpan, TimeSpan)> RunQemuAsync(NetworkBenchmarkOptions options, Files files, int run)
    {
        string who = $"{Qemu}, run {run}";
        int port = LoopbackPorts.Free(1)[0];
        using var receiver = QemuGuest.Start(QemuWithNic(options, files.QemuReceiver, $"listen=127.0.0.1:{port}", "52:54:00:12:34:52"), $"{who}, receiver");
        await WaitForListenerAsync(port, receiver, options, who);
        using var sender = QemuGuest.Start(QemuWithNic(options, files.QemuSender, $"connect=127.0.0.1:{port}", "52:54:00:12:34:51"), $"{who}, sender");
        var ends = await BothAsync(sender.WaitForPowerOffAsync(options.Timeout), receiver.WaitForPowerOffAsync(options.Timeout), () =>
        {
            sender.Kill();
            receiver.Kill();
            return Task.CompletedTask;
        });
        return (NetworkWorkload.Parse(ends.Sender.Console, ends.Receiver.Console, who), ends.Sender.Wall, ends.Receiver.Wall);
    }

    private static ProcessStartInfo QemuWithNic(NetworkBenchmarkOptions options, string initrd, string socket, string mac)
    {
        ProcessStartInfo start = StockLinux.QemuReference(StockLinux.KernelPath, initrd, StockLinux.CommandLine, options.MemoryBytes, 1);
        foreach (string arg in new[] { "-netdev", $"socket,id=n0,{socket}", "-device", $"virtio-net-pci,netdev=n0,mac={mac}" })
            start.ArgumentList.Add(arg);
        return start;
    }

    /// <summary>
    /// Waits until the receiver's QEMU listens on <paramref name="port"/> (its socket in /proc/net/tcp
    /// in state LISTEN), so that the sender's connects; a probe connection would become its peer.
    /// </summary>
    private static async Task WaitForListenerAsync(int port, QemuGuest receiver, NetworkBenchmarkOptions options, string who)
    {
        string local = string.Create(CultureInfo.InvariantCulture, $"0100007F:{port:X4}");
        var clock = Stopwatch.StartNew();
        while (!File.ReadLines("/proc/net/tcp").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Any(f => f[1] == local && f[3] == "0A"))
        {
            if (receiver.HasExited)
            {
                await receiver.WaitForPowerOffAsync(options.Timeout);
                throw new BenchUsageException($"{who}, receiver: {QemuReference.Executable} ended before it listened on 127.0.0.1:{port}");
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(30))
                throw new BenchUsageException($"{who}, receiver: {QemuReference.Executable} did not listen on 127.0.0.1:{port} within 30 s");
            await Task.Delay(50);
        }
    }

    /// <summary>Both VMs defined, run to their power-off and deleted, whatever happened.</summary>
    private static async Task<(NetworkFigures, TimeSpan, TimeSpan)> RunOursAsync(HypervisorClient client, NetworkBenchmarkOptions options, Files files, string receiverHost, string senderHost, string label, int run)
    {
        string who = $"{label}, run {run}";
        string name = $"net-bench-{(receiverHost == senderHost ? "one" : "two")}-host-{run}";
        string receiver = name + "-receiver", sender = name + "-sender";
        NetworkAdapterConfiguration[] nics = [new(Switch)];
        await client.CreateVmAsync(receiver, files.Kernel, options.MemoryBytes, 1, receiverHost, initrdPath: files.OurReceiver, commandLine: StockLinux.CommandLine, enlightened: true, nics: nics);
        try
        {
            await client.CreateVmAsync(sender, files.Kernel, options.MemoryBytes, 1, senderHost, initrdPath: files.OurSender, commandLine: StockLinux.CommandLine, enlightened: true, nics: nics);
            try
            {
                Task<(string, TimeSpan)> receiving = ClusterGuest.RunToPowerOffAsync(client, receiver, options.Timeout, $"{who}, receiver");
                Task<(string, TimeSpan)> sending = ClusterGuest.RunToPowerOffAsync(client, sender, options.Timeout, $"{who}, sender");
                var ends = await BothAsync(sending, receiving, async () =>
                {
                    await ClusterGuest.StopAsync(client, sender);
                    await ClusterGuest.StopAsync(client, receiver);
                });
                return (NetworkWorkload.Parse(ends.Sender.Console, ends.Receiver.Console, who), ends.Sender.Wall, ends.Receiver.Wall);
            }
            finally
            {
                await ClusterGuest.DeleteAsync(client, sender);
            }
        }
        finally
        {
            await ClusterGuest.DeleteAsync(client, receiver);
        }
    }

    /// <summary>
    /// Both guests' consoles and times once both are off. When the first to end failed, or its guest
    /// said it failed, the other is stopped at once (<paramref name="stop"/>) rather than left waiting
    /// for its peer until the timeout.
    /// </summary>
    private static async Task<((string Console, TimeSpan Wall) Sender, (string Console, TimeSpan Wall) Receiver)> BothAsync(
        Task<(string Console, TimeSpan Wall)> sender, Task<(string Console, TimeSpan Wall)> receiver, Func<Task> stop)
    {
        Task<(string Console, TimeSpan Wall)> first = await Task.WhenAny(sender, receiver);
        if (first.IsFaulted || NetworkWorkload.Failed(first.Result.Console))
        {
            await stop();
            await first;
        }

        return (await sender, await receiver);
    }

    private static void Report(NetworkBenchmarkOptions options, Dictionary<string, List<NetworkFigures>> results)
    {
        // Row 0 is throughput (higher is better); rows 1 and 2 are round-trip times (lower is better).
        double Value(int measure, NetworkFigures f) => measure switch
        {
            0 => Throughput(options, f),
            1 => f.PingAverageMs,
            _ => f.PingMinimumMs,
        };
        var medians = results.ToDictionary(r => r.Key, r => Measures.Select((_, i) => BenchReport.Median(r.Value.Select(f => Value(i, f)))).ToArray());
        // Every ratio is better when higher: throughput over the reference's, and the reference's time over ours.
        string Better(int measure, string who, string reference) =>
            measure == 0 ? BenchReport.Ratio(medians[who][measure], medians[reference][measure]) : BenchReport.Ratio(medians[reference][measure], medians[who][measure]);
        var columns = new List<(string Header, Func<int, string> Cell)>
        {
            ("measure", i => Measures[i]),
            ("unit", i => i == 0 ? "MiB/s" : "ms"),
        };
        foreach (string who in medians.Keys)
            columns.Add((who, i => BenchReport.Figure(medians[who][i])));
        columns.Add(("two hosts/QEMU", i => Better(i, TwoHosts, Qemu)));
        columns.Add(("one host/QEMU", i => Better(i, OneHost, Qemu)));
        columns.Add(("two hosts/one host", i => Better(i, TwoHosts, OneHost)));

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"network: medians of {options.Runs} run(s); every ratio is better when higher (ours vs QEMU: goal >= 1): throughput is ours/QEMU, ping times are QEMU/ours; two hosts/one host, the cost of crossing silos, likewise (throughput two/one, ping one/two)"));
        BenchReport.PrintTable(columns, Measures.Length);
    }

    /// <summary>The guest's clock steps by 10 ms, so a transfer that took less is counted as 10 ms.</summary>
    private static double Throughput(NetworkBenchmarkOptions options, NetworkFigures figures) => options.TransferMiB / Math.Max(figures.Seconds, 0.01);

    /// <summary>The kernel and the four initrds (sender and receiver, each with our driver or virtio's) in the run's temporary directory.</summary>
    private sealed record Files(string Work)
    {
        public string Kernel => Path.Combine(Work, "vmlinuz");

        public string OurSender => Path.Combine(Work, "initrd-hyperv-sender");

        public string OurReceiver => Path.Combine(Work, "initrd-hyperv-receiver");

        public string QemuSender => Path.Combine(Work, "initrd-virtio-sender");

        public string QemuReceiver => Path.Combine(Work, "initrd-virtio-receiver");
    }
}
