using System.Globalization;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Emulation;
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
        using var machine = CreateMachine(options.MemoryBytes);
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

        int exitCode = 0;
        // Map endings to the status QEMU would exit with, so the two columns compare: with
        // -no-reboot a triple fault makes QEMU exit 0. Anything else has no QEMU equivalent.
        int status = result.Outcome switch
        {
            GuestRunOutcome.DebugExit => result.ExitStatus!.Value,
            GuestRunOutcome.TripleFault => 0,
            _ => -1,
        };
        if (result.Outcome != GuestRunOutcome.DebugExit)
        {
            Console.Error.WriteLine($"actors-bench: guest did not exit through isa-debug-exit: {result.Outcome}: {result.Message}");
            exitCode = 1;
        }

        double seconds = result.Elapsed.TotalSeconds;
        if (options.VersusQemu)
        {
            var qemu = QemuReference.Run(options.ImagePath, options.MemoryBytes, options.Timeout);
            double qemuSeconds = qemu.Elapsed.TotalSeconds;
            double ratio = qemuSeconds > 0 ? seconds / qemuSeconds : 0;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"qemu: exit={qemu.ExitCode} seconds={qemuSeconds:F3} ratio={ratio:F2}"));
            // A process exit code keeps only the low 8 bits of QEMU's status.
            if (status < 0 || (status & 0xFF) != qemu.ExitCode)
            {
                Console.Error.WriteLine($"actors-bench: exit status differs: ours {status}, qemu {qemu.ExitCode}");
                exitCode = 1;
            }
        }

        double mips = seconds > 0 ? result.InstructionsRetired / seconds / 1e6 : 0;
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"guest: exit={status} instructions={result.InstructionsRetired} seconds={seconds:F3} mips={mips:F1}"));
        Console.Out.Flush();
        return exitCode;
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

    private static IVirtualMachine CreateMachine(ulong memoryBytes)
    {
        try
        {
            var backend = new EmulatorBackend();
            return backend.CreateMachine(PcMachine.Configuration(backend.Capabilities, memoryBytes, 1, new PlatformClock()));
        }
        catch (ArgumentException ex)
        {
            throw new BenchUsageException($"--memory {memoryBytes} bytes is not usable: {ex.Message}");
        }
    }
}
