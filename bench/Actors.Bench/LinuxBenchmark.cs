using System.Diagnostics;
using System.Globalization;
using System.Text;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Worker;
using Actors.Tests.Shared;

namespace Actors.Bench;

/// <summary>
/// <c>linux</c>: boots a Linux kernel on an in-process VM worker (the software backend, the whole
/// PC platform) and under <c>qemu-system-x86_64 -accel tcg</c> with the same kernel, initrd and
/// command line, run after run, and reports the wall time to the first line of /init's output
/// (<see cref="InitMarker"/>) and to the guest's end, with the instructions Actors retired.
/// Without --kernel it boots the stock Debian kernel of guests/linux with an initrd whose /init
/// prints the marker and powers off.
/// </summary>
internal static class LinuxBenchmark
{
    /// <summary>What the benchmark's /init prints first; with --kernel, make your /init print it.</summary>
    public const string InitMarker = "actors-bench: init";

    private const string Init = """
        #!/bin/busybox sh
        echo "actors-bench: init"
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        echo "actors-bench: $(grep -c ^processor /proc/cpuinfo) CPUs"
        poweroff -f
        """;

    public static int Run(LinuxBenchmarkOptions options)
    {
        if (options.VersusQemu)
            QemuReference.EnsureAvailable();
        byte[] kernel = options.Kernel is { } path ? ReadFile(path) : StockLinux.Kernel();
        byte[] initrd = options.Kernel is null ? StockLinux.Initrd(Init) : options.Initrd is { } initrdPath ? ReadFile(initrdPath) : [];
        string kernelPath = options.Kernel ?? StockLinux.KernelPath;
        string? initrdFile = initrd.Length == 0 ? null : StockLinux.InitrdFile(initrd);
        Console.WriteLine($"linux: {Path.GetFileName(kernelPath)}, {options.Processors} vCPU(s), {options.MemoryBytes >> 20} MiB, \"{options.Append}\", {options.Runs} run(s) each");
        var actors = options.Tiers.ToDictionary(t => t, _ => new List<LinuxRun>());
        var qemu = new List<LinuxRun>();
        try
        {
            for (int run = 1; run <= options.Runs; run++)
            {
                foreach (CpuTier tier in options.Tiers)
                {
                    LinuxRun a = RunActors(options, kernel, initrd, tier);
                    actors[tier].Add(a);
                    Console.WriteLine(Describe($"actors ({CpuTierOptions.Name(tier)})", run, a));
                }

                if (options.VersusQemu)
                {
                    LinuxRun q = RunQemu(options, kernelPath, initrdFile);
                    qemu.Add(q);
                    Console.WriteLine(Describe("qemu", run, q));
                }
            }
        }
        finally
        {
            if (initrdFile is not null)
                File.Delete(initrdFile);
        }

        LinuxRun? qemuMedian = qemu.Count > 0 ? Median(qemu) : null;
        string summary = "linux: medians:";
        foreach ((CpuTier tier, List<LinuxRun> runs) in actors)
        {
            LinuxRun median = Median(runs);
            summary += string.Create(CultureInfo.InvariantCulture,
                $" actors ({CpuTierOptions.Name(tier)}) init {median.ToInit.TotalSeconds:F2} s, end {median.ToEnd.TotalSeconds:F2} s, {median.Instructions / 1e6:F0} M instructions, {Mips(median):F0} MIPS");
            if (qemuMedian is not null)
                summary += string.Create(CultureInfo.InvariantCulture, $", ratio to qemu's init {median.ToInit / qemuMedian.ToInit:F2}, to end {median.ToEnd / qemuMedian.ToEnd:F2};");
        }

        if (qemuMedian is not null)
            summary += string.Create(CultureInfo.InvariantCulture, $" qemu init {qemuMedian.ToInit.TotalSeconds:F2} s, end {qemuMedian.ToEnd.TotalSeconds:F2} s");

        Console.WriteLine(summary);
        return actors.Values.SelectMany(r => r).All(a => a.Ending == VmWorker.PowerOffReason) ? 0 : 1;
    }

    private static string Describe(string who, int run, LinuxRun r)
    {
        string line = string.Create(CultureInfo.InvariantCulture, $"{who} run {run}: {r.Ending}, init after {r.ToInit.TotalSeconds:F2} s, end after {r.ToEnd.TotalSeconds:F2} s");
        return r.Instructions == 0 ? line : line + string.Create(CultureInfo.InvariantCulture, $", {r.Instructions / 1e6:F0} M instructions, {Mips(r):F0} MIPS");
    }

    private static double Mips(LinuxRun r) => r.Instructions / Math.Max(r.ToEnd.TotalSeconds, 1e-9) / 1e6;

    private static LinuxRun Median(List<LinuxRun> runs) => runs.OrderBy(r => r.ToEnd).ElementAt(runs.Count / 2);

    private static LinuxRun RunActors(LinuxBenchmarkOptions options, byte[] kernel, byte[] initrd, CpuTier tier)
    {
        var console = new MarkerConsole(options.Console ? Console.OpenStandardOutput() : null);
        var ended = new TaskCompletionSource<VmRunEnded>(TaskCreationOptions.RunContinuationsAsynchronously);
        VmWorker worker;
        try
        {
            worker = VmWorker.Create(new EmulatorBackend(new CpuTierOptions(tier, options.Threshold)), "linux", kernel, options.MemoryBytes, options.Processors, console, e => ended.TrySetResult(e), initrd: initrd, commandLine: options.Append, enlightened: options.Enlightened);
        }
        catch (GuestImageException e)
        {
            throw new BenchUsageException($"{options.Kernel ?? StockLinux.KernelPath}: {e.Message}");
        }

        using (worker)
        {
            var clock = Stopwatch.StartNew();
            console.Clock = clock;
            // What the kernel touched that is not implemented, once per boot, so a gap shows in the benchmark's output.
            worker.UnimplementedUsed += use => Console.WriteLine($"actors: unimplemented: {use.Subject} at 0x{use.FirstAddress:x}");
            worker.Start();
            Task? profile = options.ProfilePath is { } path ? Task.Run(() => Profile(worker, ended.Task, path)) : null;
            string ending = ended.Task.Wait(options.Timeout) ? ended.Task.Result.Reason : "timed out";
            TimeSpan toEnd = clock.Elapsed;
            profile?.Wait();
            ulong instructions = worker.InstructionsRetired;
            if (worker.ProcessorCount > 1)
            {
                IEnumerable<string> each = Enumerable.Range(0, worker.ProcessorCount).Select(i => $"{worker.GetProcessor(i, includeRegisters: false).InstructionsRetired / 1e6:F0} M");
                Console.WriteLine($"actors: instructions per vCPU: {string.Join(", ", each)}");
            }
            if (worker.CpuTier is { Statistics: not null } translated)
                Console.WriteLine($"actors: {translated.Describe(instructions)}");
            worker.Stop();
            return new LinuxRun(ending, console.ToMarker ?? TimeSpan.Zero, toEnd, instructions);
        }
    }

    private static LinuxRun RunQemu(LinuxBenchmarkOptions options, string kernelPath, string? initrdFile)
    {
        var clock = Stopwatch.StartNew();
        using Process qemu = Process.Start(StockLinux.QemuReference(kernelPath, initrdFile, options.Append, options.MemoryBytes, options.Processors)) ?? throw new BenchUsageException("cannot start qemu-system-x86_64");
        _ = qemu.StandardError.ReadToEndAsync();
        TimeSpan? toInit = null;
        while (qemu.StandardOutput.ReadLine() is { } line)
        {
            if (toInit is null && line.Contains(InitMarker, StringComparison.Ordinal))
                toInit = clock.Elapsed;
        }

        bool exited = qemu.WaitForExit(options.Timeout);
        if (!exited)
            qemu.Kill(entireProcessTree: true);
        return new LinuxRun(exited ? $"exit {qemu.ExitCode}" : "timed out", toInit ?? TimeSpan.Zero, clock.Elapsed, 0);
    }

    /// <summary>
    /// Samples every vCPU's RIP every few milliseconds until the guest ends and writes "count vcpu rip"
    /// lines, most frequent first, to <paramref name="path"/> (symbolise them with the guest's
    /// /proc/kallsyms and boot with nokaslr). Sampling pauses a vCPU briefly, so it slows the guest a little.
    /// </summary>
    private static void Profile(VmWorker worker, Task ended, string path)
    {
        var samples = new Dictionary<(int Processor, ulong Rip), int>();
        while (!ended.Wait(5))
        {
            try
            {
                for (int i = 0; i < worker.ProcessorCount; i++)
                {
                    if (worker.GetProcessor(i, includeRegisters: true).State is { } state)
                        samples[(i, state.Rip)] = samples.GetValueOrDefault((i, state.Rip)) + 1;
                }
            }
            catch (InvalidOperationException)
            {
                break;
            }
        }

        File.WriteAllLines(path, samples.OrderByDescending(s => s.Value).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Value} {s.Key.Processor} {s.Key.Rip:x16}")));
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BenchUsageException($"cannot read {path}: {e.Message}");
        }
    }

    private sealed record LinuxRun(string Ending, TimeSpan ToInit, TimeSpan ToEnd, ulong Instructions);

    /// <summary>Copies the console (optionally) and notes when the init marker first appears.</summary>
    private sealed class MarkerConsole(Stream? copy) : IConsoleOutputSink
    {
        private readonly StringBuilder _recent = new();

        public Stopwatch? Clock { get; set; }

        public TimeSpan? ToMarker { get; private set; }

        public void OnOutput(long sequence, ReadOnlySpan<byte> data)
        {
            copy?.Write(data);
            copy?.Flush();
            if (ToMarker is not null)
                return;
            _recent.Append(Encoding.ASCII.GetString(data));
            if (_recent.ToString().Contains(InitMarker, StringComparison.Ordinal))
                ToMarker = Clock?.Elapsed;
            else if (_recent.Length > 256)
                _recent.Remove(0, _recent.Length - 64);
        }
    }
}
