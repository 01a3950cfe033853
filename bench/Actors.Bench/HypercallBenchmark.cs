using System.Diagnostics;
using System.Globalization;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Worker;
using Actors.Tests.Shared;

namespace Actors.Bench;

/// <summary>
/// <c>hypercalls</c>: what the Hyper-V enlightenments cost, side by side with the peer figure.
/// <list type="bullet">
/// <item>Round trips to the hypervisor, each a guest of <see cref="HypercallBenchGuests"/> looping a
/// given number of times: a port-I/O exit (<c>out 0x80</c>) on our software CPU and under
/// <c>qemu-system-x86_64 -accel tcg</c> (the same image; QEMU has no Hyper-V enlightenments
/// without KVM, so its port-I/O exit is the comparable path); a fast HvSignalEvent through the
/// hypercall page; and a VMBus message, HvPostMessage to the answer in the SynIC message page.
/// A run's time is wall-clock from creating the VM (or starting QEMU) to the guest's exit; the
/// time of one round trip is the difference between a run of N2 and one of N1 = N2 / 10
/// iterations divided by N2 − N1, which cancels start-up, boot and teardown on both sides alike.
/// N2 is sized so the longer run loops for about <see cref="HypercallBenchmarkOptions.LoopSeconds"/>.</item>
/// <item>A VMBus channel's round trip with its VSP in the VM's worker, in a grain on the VM's silo and
/// in a grain on another silo (<see cref="VspRoundTrips"/>).</item>
/// <item>Memory: stock Linux VMs that load hv_vmbus and hv_utils and idle, with and without
/// enlightenments; the process's resident memory per VM beyond its guest RAM.</item>
/// </list>
/// </summary>
internal static class HypercallBenchmark
{
    private const ulong GuestMemory = 64UL << 20;
    private const uint CalibrationStart = 10_000;
    private static readonly TimeSpan CalibrationSpan = TimeSpan.FromSeconds(0.25);

    private const string QemuRemedy = "install QEMU (qemu-system-x86): its port-I/O exit is this benchmark's peer figure";
    private const string IdleMarker = "actors-bench: idle";

    // The same initrd for both configurations; without enlightenments hv_vmbus finds no Hyper-V and does not load.
    private const string IdleInit = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        insmod /hv_vmbus.ko 2>/dev/null && insmod /hv_utils.ko 2>/dev/null
        echo "actors-bench: idle, $(ls /sys/bus/vmbus/devices 2>/dev/null | wc -l) VMBus devices"
        while true; do sleep 3600; done
        """;

    public static int Run(HypercallBenchmarkOptions options)
    {
        QemuReference.EnsureAvailable(QemuRemedy);
        string work = Directory.CreateTempSubdirectory("actors-bench-hypercalls-").FullName;
        try
        {
            RoundTrip[] cases =
            [
                new("port-io-ours", "port-I/O exit, ours (out 0x80, the POST code port)", n => RunOurs(HypercallBenchGuests.PortIo(n), enlightened: false, options)),
                new("port-io-qemu", "port-I/O exit, QEMU TCG (the same image)", n => RunQemu(work, HypercallBenchGuests.PortIo(n), options.Timeout)),
                new("hypercall-ours", $"hypercall, ours (fast HvSignalEvent to connection 0x{HypercallBenchGuests.UnknownConnectionId:x}: INVALID_CONNECTION_ID)", n => RunOurs(HypercallBenchGuests.SignalEvent(n), enlightened: true, options)),
                new("vmbus-message-ours", "VMBus message, ours (HvPostMessage INITIATE_CONTACT 5.0 -> VERSION_RESPONSE in SIMP slot 2, taken as SINT 2's interrupt 0xf3 with auto-EOI; EOM only when MessagePending, as Linux)", n => RunOurs(HypercallBenchGuests.VmBusMessage(n), enlightened: true, options)),
            ];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"hypercalls: {options.Runs} runs per round trip, each the wall-clock difference of a run of N2 and of N2/10 iterations, N2 sized to loop about {options.LoopSeconds} s"));
            foreach (RoundTrip c in cases)
            {
                c.Iterations = SizeRun(c, options.LoopSeconds);
                Console.WriteLine($"{c.Id}: N2 = {c.Iterations}");
            }

            for (int run = 1; run <= options.Runs; run++)
            {
                var line = new List<string>();
                foreach (RoundTrip c in cases)
                {
                    uint n1 = c.Iterations / 10;
                    TimeSpan t1 = c.Run(n1);
                    TimeSpan t2 = c.Run(c.Iterations);
                    double nanoseconds = (t2 - t1).TotalNanoseconds / (c.Iterations - n1);
                    c.Samples.Add(nanoseconds);
                    line.Add(string.Create(CultureInfo.InvariantCulture, $"{c.Id} {nanoseconds:F1} ns"));
                }
                Console.WriteLine($"run {run}: {string.Join(", ", line)}");
            }

            Console.WriteLine("round trips, median (min-max) over the runs:");
            foreach (RoundTrip c in cases)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Description}: {Median(c.Samples):F1} ns ({c.Samples.Min():F1}-{c.Samples.Max():F1})"));
            double qemuPortIo = Median(cases[1].Samples);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratios to QEMU's port-I/O exit: hypercall {Median(cases[2].Samples) / qemuPortIo:F2} (goal < 1), VMBus message {Median(cases[3].Samples) / qemuPortIo:F2} (goal < 10), our port-I/O exit {Median(cases[0].Samples) / qemuPortIo:F2}"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        if (options.VspSamples > 0)
            VspRoundTrips.RunAsync(options).GetAwaiter().GetResult();
        if (options.LinuxVms > 0)
            MeasureVmMemory(options);
        return 0;
    }

    /// <summary>
    /// An N2 for <paramref name="c"/> whose run loops for about <paramref name="seconds"/>. Start-up
    /// time is the noise here, and a busy host only ever adds to it, so every point is the quicker
    /// of two runs. After a warm-up run (the JIT, QEMU's files) and a short baseline, ten times more
    /// iterations per step until the loop outlasts both the baseline and a fixed span; then one
    /// point at the size that suggests, since the first estimate can include the JIT's first tier.
    /// </summary>
    private static uint SizeRun(RoundTrip c, int seconds)
    {
        TimeSpan Quickest(uint n)
        {
            TimeSpan first = c.Run(n);
            TimeSpan second = c.Run(n);
            return first < second ? first : second;
        }

        c.Run(CalibrationStart / 10);
        TimeSpan baseline = Quickest(CalibrationStart / 10);
        uint n = CalibrationStart;
        TimeSpan loop;
        while ((loop = Quickest(n) - baseline) < CalibrationSpan + baseline && n <= uint.MaxValue / 100)
            n *= 10;
        uint estimate = Sized(n, loop, seconds);
        return Sized(estimate, Quickest(estimate) - baseline, seconds);
    }

    /// <summary>The 1-2-5 iteration count nearest below what loops for <paramref name="seconds"/>, when <paramref name="n"/> looped for <paramref name="loop"/>.</summary>
    private static uint Sized(uint n, TimeSpan loop, int seconds)
    {
        double wanted = seconds * (double)n / Math.Max(loop.TotalSeconds, 1e-3);
        return OneTwoFive(Math.Clamp(wanted, CalibrationStart, uint.MaxValue / 2));
    }

    private static uint OneTwoFive(double value)
    {
        double decade = Math.Pow(10, Math.Floor(Math.Log10(value)));
        double step = value / decade >= 5 ? 5 : value / decade >= 2 ? 2 : 1;
        return (uint)(step * decade);
    }

    /// <summary>Wall-clock time from creating the VM to the guest's exit, which must be its success.</summary>
    private static TimeSpan RunOurs(byte[] image, bool enlightened, HypercallBenchmarkOptions options)
    {
        TimeSpan timeout = options.Timeout;
        var clock = Stopwatch.StartNew();
        TimeSpan endedAt = default;
        var ended = new TaskCompletionSource<VmRunEnded>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var worker = VmWorker.Create(new EmulatorBackend(new CpuTierOptions(options.Tier)), "hypercall-bench", image, GuestMemory, 1, console: null, e =>
        {
            endedAt = clock.Elapsed;
            ended.TrySetResult(e);
        }, enlightened: enlightened);
        worker.Start();
        bool finished = ended.Task.Wait(timeout);
        worker.Stop();
        if (!finished)
            throw new BenchUsageException($"a benchmark guest did not exit within {timeout.TotalSeconds:0} s");
        VmRunEnded result = ended.Task.Result;
        if (result.ExitStatus != 1)
            throw new BenchUsageException($"a benchmark guest failed on our side: {result.Reason}, exit status {result.ExitStatus?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        return endedAt;
    }

    private static TimeSpan RunQemu(string work, byte[] image, TimeSpan timeout)
    {
        string path = Path.Combine(work, "port-io.bin");
        File.WriteAllBytes(path, image);
        QemuRun run = QemuReference.Run(path, GuestMemory, timeout, QemuRemedy);
        if (run.ExitCode != 1)
            throw new BenchUsageException($"the port-I/O guest failed under {QemuReference.Executable}: exit status {run.ExitCode}");
        return run.Elapsed;
    }

    /// <summary>
    /// Boots <see cref="HypercallBenchmarkOptions.LinuxVms"/> Linux VMs without enlightenments, then as
    /// many with, one after another, each to idle (and, enlightened, until hv_utils has answered a
    /// heartbeat over its VMBus channel), all left running. Each configuration's first VM also pays
    /// for what the process sets up once (JIT, pools), so it is not counted: a VM's memory is the
    /// process's growth in resident memory from the first to the last VM of its configuration over
    /// the VMs after the first, minus guest RAM (all of which is resident: it is zeroed when allocated).
    /// </summary>
    private static void MeasureVmMemory(HypercallBenchmarkOptions options)
    {
        int count = options.LinuxVms;
        byte[] kernel = StockLinux.Kernel();
        byte[] initrd = StockLinux.InitrdWithModules(IdleInit, "hv_vmbus.ko", "hv_utils.ko");
        ulong ram = options.LinuxMemoryBytes;
        Console.WriteLine($"memory: {count} stock Linux VMs ({ram >> 20} MiB, 1 vCPU) per configuration, booted one after another to idle with hv_vmbus and hv_utils loaded; the first of each not counted");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  before any Linux VM: process RSS {Mib(ResidentBytes()):F1} MiB, managed heap {Mib(GC.GetTotalMemory(forceFullCollection: true)):F1} MiB"));
        var workers = new List<VmWorker>();
        try
        {
            double plain = MeasureConfiguration(workers, kernel, initrd, options, enlightened: false);
            double enlightened = MeasureConfiguration(workers, kernel, initrd, options, enlightened: true);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"memory per VM beyond guest RAM: {Mib(enlightened):F2} MiB enlightened (goal < 2), {Mib(plain):F2} MiB without; the enlightenments and VMBus add {Mib(enlightened - plain):F2} MiB"));
        }
        finally
        {
            foreach (VmWorker worker in workers)
            {
                worker.Stop();
                worker.Dispose();
            }
        }
    }

    /// <returns>Bytes per VM beyond guest RAM.</returns>
    private static double MeasureConfiguration(List<VmWorker> workers, byte[] kernel, byte[] initrd, HypercallBenchmarkOptions options, bool enlightened)
    {
        string configuration = enlightened ? "enlightened" : "plain";
        ulong ram = options.LinuxMemoryBytes;
        (long Resident, long Managed) first = default, previous = default;
        var perVm = new List<double>();
        for (int i = 0; i < options.LinuxVms; i++)
        {
            var clock = Stopwatch.StartNew();
            VmWorker worker;
            try
            {
                worker = VmWorker.Create(new EmulatorBackend(new CpuTierOptions(options.Tier)), $"{configuration}-{i}", kernel, ram, 1, console: null, OnEnded, initrd: initrd, commandLine: StockLinux.CommandLine, enlightened: enlightened);
            }
            catch (GuestImageException e)
            {
                throw new BenchUsageException($"{StockLinux.KernelPath}: {e.Message}");
            }
            workers.Add(worker);
            worker.Start();
            string idle = WaitUntilIdle(worker, enlightened, options.Timeout);
            TimeSpan booted = clock.Elapsed;
            // A moment past the marker for the shell's last writes and a heartbeat or two, then
            // without the garbage of the boot, so what is counted is what the idle VM holds.
            Thread.Sleep(TimeSpan.FromSeconds(2));
            long managed = GC.GetTotalMemory(forceFullCollection: true);
            long resident = ResidentBytes();
            string heartbeat = worker.Heartbeat is { } h ? $", heartbeat answers {h.Answers}" : string.Empty;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {worker.Name}: idle after {booted.TotalSeconds:F1} s ({idle}{heartbeat}); process RSS {Mib(resident):F1} MiB, managed heap {Mib(managed):F1} MiB"));
            if (i == 0)
                first = (resident, managed);
            else
                perVm.Add(resident - previous.Resident - (double)ram);
            previous = (resident, managed);
        }
        double mean = ((double)(previous.Resident - first.Resident) / perVm.Count) - ram;
        double managedMean = (double)(previous.Managed - first.Managed) / perVm.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {configuration}: per VM beyond guest RAM {Mib(mean):F2} MiB (of which managed heap {Mib(managedMean):F2} MiB), mean over {perVm.Count} VMs; each: {string.Join(", ", perVm.Select(b => Mib(b).ToString("F2", CultureInfo.InvariantCulture)))} MiB"));
        return mean;

        static void OnEnded(VmRunEnded e) => Console.Error.WriteLine($"actors-bench: a Linux VM ended while it should idle: {e.Reason}");
    }

    /// <summary>Waits for the idle marker (and for an enlightened VM, a heartbeat answered); returns the marker's line.</summary>
    private static string WaitUntilIdle(VmWorker worker, bool enlightened, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            (_, byte[] recent) = worker.ReadRecentOutput();
            string text = System.Text.Encoding.ASCII.GetString(recent);
            int marker = text.LastIndexOf(IdleMarker, StringComparison.Ordinal);
            if (marker >= 0 && (!enlightened || worker.Heartbeat is { Answers: > 0 }))
            {
                int end = text.IndexOf('\n', marker);
                string line = (end < 0 ? text[marker..] : text[marker..end]).Trim();
                return line[IdleMarker.Length..].TrimStart(',', ' ');
            }
            if (worker.State != VmWorkerState.Running)
                throw new BenchUsageException($"Linux VM {worker.Name} stopped before it was idle: {worker.State}");
            if (clock.Elapsed > timeout)
                throw new BenchUsageException($"Linux VM {worker.Name} was not idle{(enlightened ? " with a heartbeat answered" : string.Empty)} within {timeout.TotalSeconds:0} s");
            Thread.Sleep(200);
        }
    }

    private static long ResidentBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("no VmRSS line in /proc/self/status");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static double Mib(double bytes) => bytes / (1 << 20);

    /// <summary>One round trip measured: how to run its guest N times, its N2, and the estimates so far.</summary>
    private sealed class RoundTrip(string id, string description, Func<uint, TimeSpan> run)
    {
        public string Id { get; } = id;

        public string Description { get; } = description;

        public Func<uint, TimeSpan> Run { get; } = run;

        public uint Iterations { get; set; }

        public List<double> Samples { get; } = [];
    }
}
