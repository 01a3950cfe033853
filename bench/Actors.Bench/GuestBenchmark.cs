using System.Globalization;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Platform;
using Actors.HwBackend.Runner;

namespace Actors.Bench;

/// <summary>
/// <c>guest IMAGE</c>: boots an image on a fresh emulator machine, runs it to its exit and
/// prints <c>guest: exit=... instructions=... seconds=... mips=...</c> as the last stdout line.
/// Seconds count the run loop only, not process start or image loading.
/// </summary>
internal static class GuestBenchmark
{
    public static int Run(GuestBenchmarkOptions options)
    {
        byte[] image = ReadImage(options.ImagePath);
        if (options.VersusQemu)
            QemuReference.EnsureAvailable();
        int exitCode = 0;
        var runs = new List<(CpuTier Tier, int Status, double Seconds, ulong Instructions, TierStatistics? Statistics)>();
        foreach (CpuTier tier in options.Tiers)
        {
            (int status, GuestRunResult result, TierStatistics? statistics) = RunOnce(options, image, tier);
            // Map endings to the status QEMU would exit with, so the two columns compare: with
            // -no-reboot a triple fault makes QEMU exit 0. Anything else has no QEMU equivalent.
            if (result.Outcome != GuestRunOutcome.DebugExit)
            {
                Console.Error.WriteLine($"actors-bench: guest did not exit through isa-debug-exit on the {CpuTierOptions.Name(tier)}: {result.Outcome}: {result.Message}");
                exitCode = 1;
            }

            runs.Add((tier, status, result.Elapsed.TotalSeconds, result.InstructionsRetired, statistics));
        }

        double qemuSeconds = 0;
        if (options.VersusQemu)
        {
            var qemu = QemuReference.Run(options.ImagePath, options.MemoryBytes, options.Timeout);
            qemuSeconds = qemu.Elapsed.TotalSeconds;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"qemu: exit={qemu.ExitCode} seconds={qemuSeconds:F3}"));
            // A process exit code keeps only the low 8 bits of QEMU's status.
            foreach (var run in runs.Where(r => r.Status < 0 || (r.Status & 0xFF) != qemu.ExitCode))
            {
                Console.Error.WriteLine($"actors-bench: exit status differs on the {CpuTierOptions.Name(run.Tier)}: ours {run.Status}, qemu {qemu.ExitCode}");
                exitCode = 1;
            }
        }

        foreach (var run in runs)
        {
            double mips = run.Seconds > 0 ? run.Instructions / run.Seconds / 1e6 : 0;
            string versus = qemuSeconds > 0 ? string.Create(CultureInfo.InvariantCulture, $" qemu-speed-ratio={qemuSeconds / run.Seconds:F2}") : string.Empty;
            string translated = run.Statistics is { } t
                ? string.Create(CultureInfo.InvariantCulture, $" translated-regions={t.RegionsTranslated} translation-ms={t.TranslationTime.TotalMilliseconds:F0}")
                : string.Empty;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"guest: tier={CpuTierOptions.Name(run.Tier)} exit={run.Status} instructions={run.Instructions} seconds={run.Seconds:F3} mips={mips:F1}{versus}{translated}"));
        }

        Console.Out.Flush();
        return exitCode;
    }

    private static (int Status, GuestRunResult Result, TierStatistics? Statistics) RunOnce(GuestBenchmarkOptions options, byte[] image, CpuTier tier)
    {
        using var machine = CreateMachine(options.MemoryBytes, new CpuTierOptions(tier, options.Threshold));
        LoadedGuestImage loaded;
        try
        {
            loaded = GuestImageLoader.Load(image, machine.Memory);
        }
        catch (GuestImageException ex)
        {
            throw new BenchUsageException($"{options.ImagePath}: {ex.Message}");
        }
        machine.Processors[0].SetState(loaded.InitialState);

        var stdout = Console.OpenStandardOutput();
        var ports = new IoPortBus();
        var uart = new Uart16550(options.Console ? new StreamSerialSink(stdout) : null);
        ports.Register(Uart16550.Com1Port, Uart16550.PortCount, uart, "com1");
        var runner = new GuestRunner(machine, ports, new GuestRunnerOptions { TimeBudget = options.Timeout });
        ports.Register(DebugExitDevice.DefaultPort, DebugExitDevice.PortCount, new DebugExitDevice(runner.RequestGuestExit), "isa-debug-exit");

        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            runner.RequestStop();
        };
        Console.CancelKeyPress += onCancel;
        GuestRunResult result;
        try
        {
            result = runner.Run();
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        uart.Flush();
        stdout.Flush();
        int status = result.Outcome switch
        {
            GuestRunOutcome.DebugExit => result.ExitStatus!.Value,
            GuestRunOutcome.TripleFault => 0,
            _ => -1,
        };
        return (status, result, (machine as EmulatedMachine)?.TierStatistics);
    }

    private static byte[] ReadImage(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BenchUsageException($"cannot read guest image '{path}': {ex.Message}");
        }
    }

    private static IVirtualMachine CreateMachine(ulong memoryBytes, CpuTierOptions tier)
    {
        try
        {
            var backend = new EmulatorBackend(tier);
            return backend.CreateMachine(PcMachine.Configuration(backend.Capabilities, memoryBytes, 1, new PlatformClock()));
        }
        catch (ArgumentException ex)
        {
            throw new BenchUsageException($"--memory {memoryBytes} bytes is not usable: {ex.Message}");
        }
    }
}
