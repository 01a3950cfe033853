using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Tests.Worker;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;
using Actors.HwBackend.Worker;
using Actors.Tests.Shared;
using Xunit;

namespace Actors.HwBackend.Tests.Linux;

/// <summary>
/// Debian's cloud kernel and busybox, unmodified, on the software backend's whole PC: they boot
/// to /init, run a script whose results the host checks, and power off through ACPI. QEMU TCG
/// boots the same files and must print the same script output.
/// </summary>
public sealed class StockLinuxBootTests
{
    private const ulong Memory = 256UL << 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    // 100,000 numbered lines (588,895 bytes): enough that hashing and gzip exercise the CPU, and a
    // file the host can hash too. The script prints facts, never timings, so both machines agree.
    internal const string Script = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t tmpfs tmpfs /tmp
        echo "uname: $(uname -r)"
        echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
        seq 1 100000 > /tmp/numbers
        echo "sha256: $(sha256sum /tmp/numbers | cut -d' ' -f1)"
        gzip -c /tmp/numbers > /tmp/numbers.gz
        echo "roundtrip: $(gunzip -c /tmp/numbers.gz | sha256sum | cut -d' ' -f1)"
        echo "done"
        poweroff -f
        """;

    internal static string HostHash()
    {
        var text = new StringBuilder();
        for (int i = 1; i <= 100_000; i++)
            text.Append(i).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(text.ToString())));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void TheKernelBootsRunsTheScriptAndPowersOffAsUnderQemu(int processors)
    {
        byte[] initrd = StockLinux.Initrd(Script);
        (VmRunEnded ended, string serial, _, _) = BootToEnd($"linux{processors}", initrd, processors);
        string[] lines = StockLinux.UserLines(serial).ToArray();
        string hash = HostHash();
        Assert.True(ended.Reason == VmWorker.PowerOffReason, $"ended by {ended.Reason}; last output:\n{Tail(serial)}");
        Assert.Equal(0, ended.ExitStatus);
        Assert.Contains($"cpus: {processors}", lines);
        Assert.Contains($"sha256: {hash}", lines);
        Assert.Contains($"roundtrip: {hash}", lines);
        Assert.Contains("done", lines);
        Assert.Contains("reboot: Power down", serial);
        // Every vCPU's TSC in step (INIT and SIPI keep its offset) and IA32_TSC_ADJUST present: Linux keeps the TSC.
        Assert.Contains("clocksource: Switched to clocksource tsc\n", serial);
        Assert.DoesNotContain("Marking TSC unstable", serial);

        Assert.Equal(QemuScriptOutput(initrd, processors), lines);
    }

    [Fact]
    public void AnEnlightenedPartitionIsMicrosoftHyperVToTheKernelAndItBootsClean()
    {
        byte[] initrd = StockLinux.Initrd("""
            #!/bin/busybox sh
            /bin/busybox --install -s /bin
            mount -t proc proc /proc
            echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
            for c in /sys/bus/vmbus/devices/{{heartbeatInstance}}/channels/*; do echo 1 > $c/cpu; echo "heartbeat channel on cpu $(cat $c/cpu)"; done
            poweroff -f
            """);
        Boot boot = BootToEnd("linux-hv", initrd, processors: 2, enlightened: true);
        string serial = boot.Serial;
        Assert.True(boot.Ended.Reason == VmWorker.PowerOffReason, $"ended by {boot.Ended.Reason}; last output:\n{Tail(serial)}");
        Assert.Contains("Hypervisor detected: Microsoft Hyper-V\n", serial);
        // The privileges we grant (time reference, SynIC, synthetic timers, hypercall, VP index, reset, reference TSC,
        // frequency and TSC invariant MSRs; post messages and signal events) and the timer rate read from them.
        Assert.Contains("Hyper-V: privilege flags low 0x8aee, high 0x30, hints 0x20, misc 0x80500\n", serial);
        Assert.Contains("Hyper-V: LAPIC Timer Frequency: 0x3d0900\n", serial);
        Assert.Contains("clocksource: hyperv_clocksource_tsc_page: ", serial);
        Assert.Contains("Booting paravirtualized kernel on Hyper-V\n", serial);
        // Every synthetic MSR the kernel touches on both CPUs exists, and the invariant TSC stays the clocksource.
        Assert.DoesNotContain("unchecked MSR access error", serial);
        Assert.DoesNotContain(boot.Unimplemented, u => u.Subject.StartsWith("MSR 0x400000", StringComparison.Ordinal));
        Assert.Contains("clocksource: Switched to clocksource tsc\n", serial);
        Assert.Contains("cpus: 2", StockLinux.UserLines(serial));
    }

    [Fact]
    public void LinuxsOwnVmBusDriverBindsEveryIntegrationServiceAndShutsDownWhenAskedOnTwoVps()
    {
        Guid heartbeatInstance = VmBusOffer.IntegrationServices.Single(o => o.InterfaceType == VmBusOffer.Heartbeat).InterfaceInstance;
        // The clock is put back to 2001 before hv_utils loads, so only the time-sync service can
        // bring it to today. Busybox's poweroff signals init (USR2); init's trap is the orderly part.
        byte[] initrd = StockLinux.InitrdWithModules($$"""
            #!/bin/busybox sh
            /bin/busybox --install -s /bin
            mkdir -p /sbin && ln -s /bin/busybox /sbin/poweroff
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            trap 'echo "init: asked to power off"; echo "clock: $(date +%s)"; echo "devices at the end: $(ls /sys/bus/vmbus/devices | wc -l)"; poweroff -f' USR2
            date -s "2001-01-01 00:00:00" >/dev/null
            insmod /hv_vmbus.ko && echo "hv_vmbus: loaded"
            insmod /hv_utils.ko && echo "hv_utils: loaded"
            sleep 1
            for d in /sys/bus/vmbus/devices/*; do echo "device $(basename $d): class $(cat $d/class_id), driver $(basename "$(readlink $d/driver)")"; done
            echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
            for c in /sys/bus/vmbus/devices/{{heartbeatInstance}}/channels/*; do echo 1 > $c/cpu; echo "heartbeat channel on cpu $(cat $c/cpu)"; done
            echo "waiting"
            while true; do sleep 1; done
            """, "hv_vmbus.ko", "hv_utils.ko");

        ShutdownAnswer? answer = null;
        long movedChannels = 0;
        (VmRunEnded ended, string serial, _, long heartbeats) = BootToEnd("linux-vmbus", initrd, processors: 2, enlightened: true, whileRunning: (worker, console) =>
        {
            // Asked once the guest waits: every service has negotiated, the clock was set and a heartbeat answered.
            Assert.True(SpinWait.SpinUntil(() => worker.Heartbeat!.Answers > 0 && worker.TimeSync!.Syncs > 0 && worker.Shutdown!.Negotiated, Deadline), "the integration services did not come up");
            Assert.True(SpinWait.SpinUntil(() => Encoding.UTF8.GetString(console.Bytes).Contains("waiting", StringComparison.Ordinal), Deadline), "the guest's script did not get to wait");
            // The guest moved the heartbeat's channel to its second CPU; the beats go there and are still answered.
            long answered = worker.Heartbeat!.Answers;
            Assert.True(SpinWait.SpinUntil(() => worker.Heartbeat.Answers >= answered + 2, Deadline), "no heartbeat answered after the channel moved");
            movedChannels = worker.VmBusMessageCounts().SingleOrDefault(c => c.Type == "ModifyChannel").Count;

            // The heartbeat device is taken away (rescinded) and given back while the guest runs:
            // Linux's hv_vmbus releases it, then binds hv_utils to the new offer, which negotiates afresh.
            Assert.True(worker.SetDevicePresent(VmBusOffer.Heartbeat, present: false));
            Assert.True(SpinWait.SpinUntil(() => worker.VmBusMessageCounts().Any(c => c.Type == "RelIdReleased"), Deadline), "the guest did not release the rescinded heartbeat");
            Assert.False(worker.Heartbeat.Negotiated);
            Assert.True(worker.SetDevicePresent(VmBusOffer.Heartbeat, present: true));
            Assert.True(SpinWait.SpinUntil(() => worker.Heartbeat.Negotiated && worker.Heartbeat.Answers > 0, Deadline), "the offered-again heartbeat did not come back");
            Task<ShutdownAnswer>? request = worker.Shutdown!.Request(ShutdownKind.PowerOff);
            Assert.NotNull(request);
            Assert.True(request.Wait(Deadline), "the guest did not answer the shutdown request");
            answer = request.Result;
        });
        Assert.True(ended.Reason == VmWorker.PowerOffReason, $"ended by {ended.Reason}; last output:\n{Tail(serial)}");
        Assert.Equal(ShutdownAnswer.Accepted, answer);
        // The driver found the ACPI device, enabled the SynIC, and negotiated protocol 5.0 after being refused 5.3 to 5.1.
        Assert.Contains("hv_vmbus: Vmbus version:5.0\n", serial);
        string[] lines = StockLinux.UserLines(serial).ToArray();
        Assert.Contains("hv_vmbus: loaded", lines);
        Assert.Contains("hv_utils: loaded", lines);
        Assert.Contains("cpus: 2", lines);
        Assert.Contains("heartbeat channel on cpu 1", lines);
        Assert.Equal(1, movedChannels);
        // Every offered integration service is bound by hv_utils: its probe lent the channel a GPADL and opened it.
        foreach (VmBusOffer offer in VmBusOffer.IntegrationServices)
            Assert.Contains($"device {offer.InterfaceInstance}: class {{{offer.InterfaceType}}}, driver hv_utils", lines);
        // Over the channels' rings: the guest agreed on versions with each service, answered our
        // heartbeats (one at once, then one a second of guest time), took the time and shut down.
        Assert.Contains("hv_utils: Heartbeat IC version 3.0\n", serial);
        Assert.Contains("hv_utils: Shutdown IC version 3.0\n", serial);
        Assert.Contains("hv_utils: TimeSync IC version 4.0\n", serial);
        Assert.True(heartbeats >= 1, $"{heartbeats} heartbeats answered");
        Assert.Contains("hv_utils: Shutdown request received - graceful shutdown initiated\n", serial);
        Assert.Contains("init: asked to power off", lines);
        Assert.Contains($"devices at the end: {VmBusOffer.IntegrationServices.Count + 1}", lines); // the services and the SCSI controller: the heartbeat is back
        long clock = long.Parse(lines.Single(l => l.StartsWith("clock: ", StringComparison.Ordinal))["clock: ".Length..], CultureInfo.InvariantCulture);
        Assert.InRange(clock, DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60);
        Assert.DoesNotContain("unchecked MSR access error", serial);
    }

    [Fact]
    public void RebootWithTheKeyboardControllerEndsTheRunAsAReset()
    {
        // reboot=k: Linux pulses the 8042's reset line (command 0xFE on port 0x64) instead of using the ACPI reset register.
        byte[] initrd = StockLinux.Initrd("""
            #!/bin/busybox sh
            /bin/busybox echo "rebooting"
            /bin/busybox reboot -f
            """);
        (VmRunEnded ended, string serial, _, _) = BootToEnd("linux-kbd", initrd, processors: 1, StockLinux.CommandLine + " reboot=k");
        Assert.True(ended.Reason == "reset: " + KeyboardController.PulseResetReason, $"ended by {ended.Reason}; last output:\n{Tail(serial)}");
        Assert.Null(ended.ExitStatus);
        Assert.Contains("rebooting", StockLinux.UserLines(serial));
        Assert.Contains("reboot: Restarting system", serial);
    }

    /// <summary>How a boot ended, its serial output (with LF line ends) and what the guest used that is not implemented.</summary>
    private sealed record Boot(VmRunEnded Ended, string Serial, IReadOnlyList<UnimplementedUse> Unimplemented, long HeartbeatAnswers);

    /// <summary>Boots the stock kernel with <paramref name="initrd"/> on the software backend until the guest ends.</summary>
    /// <param name="whileRunning">Called on the test's thread once the VM has started, to act on it as a host would.</param>
    private static Boot BootToEnd(string name, byte[] initrd, int processors, string commandLine = StockLinux.CommandLine, bool enlightened = false, Action<VmWorker, RecordingConsole>? whileRunning = null)
    {
        var console = new RecordingConsole();
        var probe = new EndProbe();
        using var worker = VmWorker.Create(new EmulatorBackend(), name, StockLinux.Kernel(), Memory, processors, console, probe.OnEnded, initrd: initrd, commandLine: commandLine, enlightened: enlightened);
        worker.Start();
        whileRunning?.Invoke(worker, console);
        VmRunEnded ended = probe.Wait(Deadline);
        return new Boot(ended, Encoding.UTF8.GetString(console.Bytes).Replace("\r\n", "\n", StringComparison.Ordinal), worker.Unimplemented, worker.Heartbeat?.Answers ?? 0);
    }

    /// <summary>The same kernel, initrd and command line under QEMU TCG; the lines its userland printed.</summary>
    private static string[] QemuScriptOutput(byte[] initrd, int processors)
    {
        string initrdPath = StockLinux.InitrdFile(initrd);
        try
        {
            using Process qemu = Process.Start(StockLinux.QemuReference(StockLinux.KernelPath, initrdPath, StockLinux.CommandLine, Memory, processors)) ?? throw new InvalidOperationException("cannot start qemu-system-x86_64");
            Task<string> output = qemu.StandardOutput.ReadToEndAsync();
            _ = qemu.StandardError.ReadToEndAsync();
            if (!qemu.WaitForExit(Deadline))
            {
                qemu.Kill(entireProcessTree: true);
                throw new TimeoutException("QEMU did not power the guest off in time");
            }

            return StockLinux.UserLines(output.Result).ToArray();
        }
        finally
        {
            File.Delete(initrdPath);
        }
    }

    private static string Tail(string serial) => serial.Length > 3000 ? serial[^3000..] : serial;
}
