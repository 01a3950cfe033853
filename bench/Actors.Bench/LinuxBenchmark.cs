using System.Diagnostics;
using System.Globalization;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Worker;

namespace Actors.Bench;

/// <summary>
/// <c>linux --kernel F --initrd F</c>: boots a Linux kernel on an in-process VM worker (the
/// software backend, the whole PC platform) and reports the time to the first byte the
/// initrd's <c>/init</c> prints (its first line starts with <see cref="InitMarker"/>) and to the
/// guest's end, beside QEMU TCG on the same files with <c>--vs-qemu</c>.
/// </summary>
internal static class LinuxBenchmark
{
    /// <summary>What a benchmark initrd's /init prints first.</summary>
    public const string InitMarker = "init:";

    public static int Run(LinuxBenchmarkOptions options)
    {
        byte[] kernel = ReadFile(options.Kernel);
        byte[] initrd = options.Initrd is null ? [] : ReadFile(options.Initrd);
        for (int run = 1; run <= options.Runs; run++)
        {
            LinuxRun actors = RunActors(options, kernel, initrd);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"actors run {run}: {actors.Ending}, init after {actors.ToInit.TotalSeconds:F2} s, end after {actors.ToEnd.TotalSeconds:F2} s, {actors.Instructions} instructions, {actors.Instructions / Math.Max(actors.ToEnd.TotalSeconds, 1e-9) / 1e6:F0} MIPS"));
        }

        return 0;
    }

    private static LinuxRun RunActors(LinuxBenchmarkOptions options, byte[] kernel, byte[] initrd)
    {
        var console = new MarkerConsole(options.Console ? System.Console.OpenStandardOutput() : null);
        var ended = new TaskCompletionSource<VmRunEnded>(TaskCreationOptions.RunContinuationsAsynchronously);
        VmWorker worker;
        try
        {
            worker = VmWorker.Create(new EmulatorBackend(), "linux", kernel, options.MemoryBytes, options.Processors, console, e => ended.TrySetResult(e), initrd: initrd, commandLine: options.Append);
        }
        catch (GuestImageException e)
        {
            throw new BenchUsageException($"{options.Kernel}: {e.Message}");
        }

        using (worker)
        {
            var clock = Stopwatch.StartNew();
            console.Clock = clock;
            worker.Start();
            Task? profile = options.ProfilePath is { } path ? Task.Run(() => Profile(worker, ended.Task, path)) : null;
            string ending = ended.Task.Wait(options.Timeout) ? ended.Task.Result.Reason : "timed out";
            profile?.Wait();
            TimeSpan toEnd = clock.Elapsed;
            ulong instructions = worker.InstructionsRetired;
            worker.Stop();
            return new LinuxRun(ending, console.ToMarker ?? TimeSpan.Zero, toEnd, instructions);
        }
    }

    /// <summary>
    /// Samples vCPU 0's RIP every few milliseconds until the guest ends and writes "count rip" lines,
    /// most frequent first, to <paramref name="path"/> (symbolise them with the kernel's System.map and
    /// boot with nokaslr). Sampling pauses the vCPU briefly, so it slows the guest a little.
    /// </summary>
    private static void Profile(VmWorker worker, Task ended, string path)
    {
        var samples = new Dictionary<ulong, int>();
        while (!ended.Wait(5))
        {
            try
            {
                if (worker.GetProcessor(0, includeRegisters: true).State is { } state)
                    samples[state.Rip] = samples.GetValueOrDefault(state.Rip) + 1;
            }
            catch (InvalidOperationException)
            {
                break;
            }
        }

        File.WriteAllLines(path, samples.OrderByDescending(s => s.Value).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Value} {s.Key:x16}")));
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
        private readonly System.Text.StringBuilder _recent = new();

        public Stopwatch? Clock { get; set; }

        public TimeSpan? ToMarker { get; private set; }

        public void OnOutput(long sequence, ReadOnlySpan<byte> data)
        {
            copy?.Write(data);
            copy?.Flush();
            if (ToMarker is not null)
                return;
            _recent.Append(System.Text.Encoding.ASCII.GetString(data));
            if (_recent.ToString().Contains(InitMarker, StringComparison.Ordinal))
                ToMarker = Clock?.Elapsed;
            else if (_recent.Length > 256)
                _recent.Remove(0, _recent.Length - 64);
        }
    }
}
