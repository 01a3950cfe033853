using System.Diagnostics;
using System.Globalization;
using System.Text;
using Actors.Client;
using Actors.Grains;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Storage;
using Actors.HwBackend.Worker;
using Actors.Tests.Shared;

namespace Actors.Bench;

/// <summary>
/// <c>disk</c>: disk throughput seen from inside stock Linux (<see cref="DiskWorkload"/>), on our
/// synthetic SCSI controller beside QEMU TCG's virtio-blk, run after run in one process so both
/// see the same machine. Same kernel, command line, 256 MiB and 1 vCPU on every side, and a fresh
/// sparse raw image of the disk's size in a temporary directory for every run:
/// <list type="bullet">
/// <item>ours, in process: a <see cref="VmWorker"/> on the software CPU, enlightened, whose
/// <see cref="ScsiDisk"/> is a <see cref="FileBlockStore"/> answered on the vCPU thread;</item>
/// <item>QEMU: <c>-drive file=IMAGE,if=virtio,format=raw,cache=writeback</c>, writeback being QEMU's
/// default (the host's page cache, with the guest's flushes passed on as fdatasync), which is what
/// <see cref="FileBlockStore"/> does too;</item>
/// <item>with --remote, ours through the cluster: two silo processes, the VM on the first, and the
/// disk in the disk store of the first (its owner grain on the VM's silo) or of the second (every
/// SCSI command crosses silos).</item>
/// </list>
/// Each figure is the median over runs; the guest's own clock times each phase.
/// </summary>
internal static class DiskBenchmark
{
    private const string Local = "ours, in process";
    private const string Qemu = "QEMU virtio-blk";
    private const string SameSilo = "ours, grain on VM's silo";
    private const string OtherSilo = "ours, grain on other silo";

    public static int Run(DiskBenchmarkOptions options) => RunAsync(options).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(DiskBenchmarkOptions options)
    {
        QemuReference.EnsureAvailable("install QEMU (qemu-system-x86): the disk benchmark compares against it");
        Console.WriteLine($"$ {BenchReport.CommandLine()}");
        Console.WriteLine($"disk: stock Linux ({Path.GetFileName(StockLinux.KernelPath)}, \"{StockLinux.CommandLine}\"), 1 vCPU, {options.MemoryBytes >> 20} MiB; {options.SizeMiB} MiB disk, sequential bs=1M, {options.RandomIos} random 4 KiB writes and reads; {options.Runs} run(s), medians");
        string work = Directory.CreateTempSubdirectory("actors-bench-disk-").FullName;
        try
        {
            byte[] kernel = StockLinux.Kernel();
            byte[] ourInitrd = StockLinuxInit.Initrd(DiskWorkload.Script("sda", DiskWorkload.HyperVModules, options), DiskWorkload.HyperVModules);
            string qemuInitrd = Path.Combine(work, "initrd-virtio");
            await File.WriteAllBytesAsync(qemuInitrd, StockLinuxInit.Initrd(DiskWorkload.Script("vda", DiskWorkload.VirtioModules, options), DiskWorkload.VirtioModules));

            var results = new Dictionary<string, List<double[]>> { [Local] = [], [Qemu] = [] };
            if (!options.Remote)
            {
                for (int run = 1; run <= options.Runs; run++)
                {
                    Record(results, Local, run, RunLocal(options, kernel, ourInitrd, work, run));
                    Record(results, Qemu, run, await RunQemuAsync(options, qemuInitrd, work, run));
                }
            }
            else
            {
                await ClusterGuest.WithOneLineFailuresAsync(() => RunWithClusterAsync(options, kernel, ourInitrd, qemuInitrd, work, results));
            }

            Report(options, results);
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>All four configurations run after run, so a machine whose load changes affects each alike.</summary>
    private static async Task RunWithClusterAsync(DiskBenchmarkOptions options, byte[] kernel, byte[] ourInitrd, string qemuInitrd, string work, Dictionary<string, List<double[]>> results)
    {
        string kernelFile = Path.Combine(work, "vmlinuz"), initrdFile = Path.Combine(work, "initrd-hyperv");
        await File.WriteAllBytesAsync(kernelFile, kernel);
        await File.WriteAllBytesAsync(initrdFile, ourInitrd);
        string disks = Directory.CreateDirectory(Path.Combine(work, "disk-stores")).FullName;
        using var first = SiloProcess.Start("disk-bench-a", diskDirectory: disks);
        using var second = SiloProcess.Start("disk-bench-b", join: first, diskDirectory: disks);
        await using var client = await HypervisorClient.ConnectAsync(first.Gateway, TimeSpan.FromSeconds(60));
        await ClusterGuest.WaitForHostsAsync(client, first.Host, second.Host);
        results[SameSilo] = [];
        results[OtherSilo] = [];
        for (int run = 1; run <= options.Runs; run++)
        {
            Record(results, Local, run, RunLocal(options, kernel, ourInitrd, work, run));
            Record(results, Qemu, run, await RunQemuAsync(options, qemuInitrd, work, run));
            Record(results, SameSilo, run, await RunGrainAsync(client, options, kernelFile, initrdFile, first.Host, first.Host, SameSilo, run));
            Record(results, OtherSilo, run, await RunGrainAsync(client, options, kernelFile, initrdFile, first.Host, second.Host, OtherSilo, run));
        }
    }

    private static void Record(Dictionary<string, List<double[]>> results, string who, int run, (double[] Seconds, TimeSpan Wall) outcome)
    {
        results[who].Add(outcome.Seconds);
        IEnumerable<string> phases = DiskWorkload.Phases.Select((p, i) => string.Create(CultureInfo.InvariantCulture, $"{p} {outcome.Seconds[i]:F2} s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{who}, run {run}: {string.Join(", ", phases)} (guest {outcome.Wall.TotalSeconds:F0} s from start to power-off)"));
    }

    private static (double[], TimeSpan) RunLocal(DiskBenchmarkOptions options, byte[] kernel, byte[] initrd, string work, int run)
    {
        string who = $"{Local}, run {run}";
        string image = Path.Combine(work, $"local-{run}.img");
        try
        {
            using var store = FileBlockStore.Create(image, (long)options.SizeMiB << 20);
            var console = new TextConsole();
            var ended = new TaskCompletionSource<VmRunEnded>(TaskCreationOptions.RunContinuationsAsynchronously);
            using var worker = VmWorker.Create(new EmulatorBackend(new CpuTierOptions(CpuTierOptions.DefaultTier)), "disk-bench", kernel, options.MemoryBytes, processorCount: 1, console, e => ended.TrySetResult(e),
                initrd: initrd, commandLine: StockLinux.CommandLine, enlightened: true, disks: [new ScsiDisk(store, "disk-bench")]);
            var clock = Stopwatch.StartNew();
            worker.Start();
            bool finished = ended.Task.Wait(options.Timeout);
            TimeSpan wall = clock.Elapsed;
            worker.Stop();
            if (!finished)
                throw new BenchUsageException($"{who}: the guest did not power off within {options.Timeout.TotalMinutes:F0} min");
            if (ended.Task.Result.Reason != VmWorker.PowerOffReason)
                throw new BenchUsageException($"{who}: the guest ended by {ended.Task.Result.Reason}, not a power-off");
            return (DiskWorkload.Parse(console.Text, who), wall);
        }
        finally
        {
            File.Delete(image);
        }
    }

    private static async Task<(double[], TimeSpan)> RunQemuAsync(DiskBenchmarkOptions options, string initrd, string work, int run)
    {
        string who = $"{Qemu}, run {run}";
        string image = Path.Combine(work, $"qemu-{run}.img");
        try
        {
            // A sparse raw image, as FileBlockStore.Create makes.
            await using (var file = new FileStream(image, FileMode.CreateNew))
                file.SetLength((long)options.SizeMiB << 20);
            ProcessStartInfo start = StockLinux.QemuReference(StockLinux.KernelPath, initrd, StockLinux.CommandLine, options.MemoryBytes, 1);
            start.ArgumentList.Add("-drive");
            start.ArgumentList.Add($"file={image},if=virtio,format=raw,cache=writeback");
            using var qemu = QemuGuest.Start(start, who);
            (string console, TimeSpan wall) = await qemu.WaitForPowerOffAsync(options.Timeout);
            return (DiskWorkload.Parse(console, who), wall);
        }
        finally
        {
            File.Delete(image);
        }
    }

    /// <summary>One VM with one fresh disk in <paramref name="diskHost"/>'s store, both deleted afterwards, whatever happened.</summary>
    private static async Task<(double[], TimeSpan)> RunGrainAsync(HypervisorClient client, DiskBenchmarkOptions options, string kernel, string initrd, string vmHost, string diskHost, string label, int run)
    {
        string who = $"{label}, run {run}";
        string vm = $"disk-bench-{(vmHost == diskHost ? "same" : "other")}-{run}", disk = vm + "-disk";
        await client.CreateDiskAsync(disk, (long)options.SizeMiB << 20, diskHost);
        try
        {
            await client.CreateVmAsync(vm, kernel, options.MemoryBytes, 1, vmHost, initrdPath: initrd, commandLine: StockLinux.CommandLine, enlightened: true, disks: [disk]);
            try
            {
                (string console, TimeSpan wall) = await ClusterGuest.RunToPowerOffAsync(client, vm, options.Timeout, who);
                return (DiskWorkload.Parse(console, who), wall);
            }
            finally
            {
                await ClusterGuest.DeleteAsync(client, vm);
            }
        }
        finally
        {
            await client.DeleteDiskAsync(disk);
        }
    }

    private static void Report(DiskBenchmarkOptions options, Dictionary<string, List<double[]>> results)
    {
        // Throughput, higher is better: MiB/s for the sequential phases, IOPS for the random ones.
        double[] Medians(string who) => [.. DiskWorkload.Phases.Select((_, i) => BenchReport.Median(results[who].Select(s => Throughput(options, i, s[i]))))];
        var medians = results.ToDictionary(r => r.Key, r => Medians(r.Key));
        var columns = new List<(string Header, Func<int, string> Cell)>
        {
            ("phase", i => DiskWorkload.Phases[i]),
            ("unit", i => DiskWorkload.IsSequential(i) ? "MiB/s" : "IOPS"),
        };
        foreach (string who in medians.Keys)
            columns.Add((who, i => BenchReport.Figure(medians[who][i])));
        columns.Add(("ours/QEMU", i => BenchReport.Ratio(medians[Local][i], medians[Qemu][i])));
        if (medians.ContainsKey(SameSilo))
        {
            columns.Add(("VM's silo/in process", i => BenchReport.Ratio(medians[SameSilo][i], medians[Local][i])));
            columns.Add(("other silo/in process", i => BenchReport.Ratio(medians[OtherSilo][i], medians[Local][i])));
            columns.Add(("other silo/QEMU", i => BenchReport.Ratio(medians[OtherSilo][i], medians[Qemu][i])));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"disk: medians of {options.Runs} run(s); ratios of throughput, higher is better (ours/QEMU: goal >= 1)"));
        BenchReport.PrintTable(columns, DiskWorkload.Phases.Length);
    }

    /// <summary>The guest's clock steps by 10 ms, so a phase that took less is counted as 10 ms.</summary>
    private static double Throughput(DiskBenchmarkOptions options, int phase, double seconds) =>
        (DiskWorkload.IsSequential(phase) ? options.SizeMiB : options.RandomIos) / Math.Max(seconds, 0.01);

    /// <summary>Keeps the guest's console as text; called on the vCPU thread, so it only appends.</summary>
    private sealed class TextConsole : IConsoleOutputSink
    {
        private readonly StringBuilder _text = new();

        public string Text
        {
            get
            {
                lock (_text)
                    return _text.ToString();
            }
        }

        public void OnOutput(long sequence, ReadOnlySpan<byte> data)
        {
            lock (_text)
                _text.Append(Encoding.Latin1.GetString(data));
        }
    }
}
