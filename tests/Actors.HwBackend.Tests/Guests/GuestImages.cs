using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Platform;
using Actors.HwBackend.Runner;
using Actors.HwBackend.Tests.Emulation;
using Actors.HwBackend.Tests.Worker;
using Actors.HwBackend.Worker;

namespace Actors.HwBackend.Tests.Guests;

/// <summary>Finds the images <c>make -C guests</c> built and runs them on the software CPU or under QEMU.</summary>
internal static class GuestImages
{
    public static readonly string[] All = ["hello", "cpu-selftest", "compute", "intbench"];

    /// <summary>Guests that need the PC platform (APICs, timers, several vCPUs), with the vCPU count they run with.</summary>
    public static readonly (string Name, int Processors)[] Platform = [("smp", 4), ("timer", 1), ("interrupts", 1), ("migrate-verify", 1)];

    /// <summary>
    /// The Makefile's RUNS, with the same fw_cfg files as its QEMU_OPTS_NAME: images run with options, which
    /// must reach the guest through our fw_cfg as they do through QEMU's.
    /// </summary>
    public static readonly GuestRun[] Runs =
    [
        new("intbench-quick", "intbench", new Dictionary<string, string> { ["opt/actors/iterations"] = "100" }),
    ];

    public static GuestRun Run(string name) => Runs.Single(r => r.Name == name);

    public static string GuestsDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "guests", "Makefile"))) return Path.Combine(dir.FullName, "guests");
            }
            throw new InvalidOperationException("guests/ not found above the test binaries");
        }
    }

    public static string ImagePath(string name) => Path.Combine(GuestsDirectory, "build", name + ".elf");

    public static byte[] ExpectedOutput(string name) => File.ReadAllBytes(Path.Combine(GuestsDirectory, "expected", name + ".out"));

    public static int ExpectedStatus(string name) => int.Parse(File.ReadAllText(Path.Combine(GuestsDirectory, "expected", name + ".status")).Trim());

    /// <summary>Boots <paramref name="name"/> on a new emulator machine with a UART and isa-debug-exit, to its exit.</summary>
    public static (GuestRunResult Result, byte[] Output) RunOnEmulator(string name, ulong memoryBytes = 64UL << 20, CpuTier tier = CpuTier.Interpreter)
    {
        using var machine = TestMachines.Create(memoryBytes, tier: TestTiers.For(tier));
        var loaded = GuestImageLoader.Load(File.ReadAllBytes(ImagePath(name)), machine.Memory);
        machine.Processors[0].SetState(loaded.InitialState);
        var sink = new CapturingSink();
        var ports = new IoPortBus();
        var uart = new Uart16550(sink);
        ports.Register(Uart16550.Com1Port, Uart16550.PortCount, uart, "com1");
        var runner = new GuestRunner(machine, ports, new GuestRunnerOptions { TimeBudget = TimeSpan.FromMinutes(2) });
        ports.Register(DebugExitDevice.DefaultPort, DebugExitDevice.PortCount, new DebugExitDevice(runner.RequestGuestExit), "isa-debug-exit");
        var result = runner.Run();
        uart.Flush();
        return (result, sink.Bytes);
    }

    /// <summary>
    /// Boots <paramref name="name"/> on a <see cref="VmWorker"/> (the whole PC platform, one
    /// thread per vCPU) and waits for it to end; <paramref name="midRun"/>, when given, gets the
    /// running host and may return a replacement (a restored copy) that the run continues on.
    /// </summary>
    public static (VmRunEnded Ended, byte[] Output) RunOnPlatform(string name, int processors, Func<VmWorker, RecordingConsole, EndProbe, (VmWorker, EndProbe)>? midRun = null, CpuTier tier = CpuTier.Interpreter) =>
        RunOnPlatform(name, name, processors, firmwareFiles: null, midRun, tier);

    /// <summary>Boots <paramref name="run"/>'s image with its fw_cfg files on a one-vCPU <see cref="VmWorker"/> and waits for it to end.</summary>
    public static (VmRunEnded Ended, byte[] Output) RunOnPlatform(GuestRun run, CpuTier tier = CpuTier.Interpreter) =>
        RunOnPlatform(run.Name, run.Image, 1, run.Files.ToDictionary(f => f.Key, f => System.Text.Encoding.ASCII.GetBytes(f.Value)), midRun: null, tier);

    private static (VmRunEnded Ended, byte[] Output) RunOnPlatform(string name, string image, int processors, IReadOnlyDictionary<string, byte[]>? firmwareFiles, Func<VmWorker, RecordingConsole, EndProbe, (VmWorker, EndProbe)>? midRun, CpuTier tier)
    {
        var console = new RecordingConsole();
        var probe = new EndProbe();
        var host = VmWorker.Create(new EmulatorBackend(TestTiers.For(tier)), name, File.ReadAllBytes(ImagePath(image)), 128UL << 20, processors, console, probe.OnEnded, firmwareFiles);
        try
        {
            host.Start();
            if (midRun != null)
            {
                var (replacement, replacementProbe) = midRun(host, console, probe);
                if (replacement != host)
                {
                    host.Dispose();
                    host = replacement;
                    probe = replacementProbe;
                }
            }
            var ended = probe.Wait(TimeSpan.FromMinutes(2));
            return (ended, console.Bytes);
        }
        finally
        {
            host.Dispose();
        }
    }

    /// <summary>Boots <paramref name="run"/>'s image with its fw_cfg files under QEMU, as <c>make check</c> does.</summary>
    public static (int Status, byte[] Output) RunOnQemu(GuestRun run) => RunOnQemu(run.Image, firmwareFiles: run.Files);

    /// <summary>Boots the image under <c>qemu-system-x86_64 -accel tcg</c> and returns its stdout and exit status.</summary>
    public static (int Status, byte[] Output) RunOnQemu(string name, int processors = 1, IReadOnlyDictionary<string, string>? firmwareFiles = null)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-accel", "tcg", "-display", "none", "-no-reboot", "-nodefaults", "-m", "128M", "-smp", processors.ToString(System.Globalization.CultureInfo.InvariantCulture), "-kernel", ImagePath(name), "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4" })
            psi.ArgumentList.Add(a);
        // As the Makefile's QEMU_OPTS_timer: plain TCG loses the ticks that fall due while the
        // host deschedules QEMU, so the timer guest's rate checks fail whenever other tests load
        // the machine; with -icount its time follows executed instructions and no tick is lost.
        if (name == "timer")
        {
            psi.ArgumentList.Add("-icount");
            psi.ArgumentList.Add("shift=auto,sleep=on");
        }
        foreach (var (file, value) in firmwareFiles ?? new Dictionary<string, string>())
        {
            psi.ArgumentList.Add("-fw_cfg");
            psi.ArgumentList.Add($"name={file},string={value}");
        }
        using var p = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException("could not start qemu-system-x86_64");
        var output = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(output);
        var err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"qemu did not finish {name} within 2 minutes");
        }
        copy.Wait();
        return (p.ExitCode, output.ToArray());
    }

    private sealed class CapturingSink : ISerialTransmitSink
    {
        private readonly MemoryStream _bytes = new();

        public byte[] Bytes => _bytes.ToArray();

        public void Transmit(ReadOnlySpan<byte> data) => _bytes.Write(data);
    }
}
