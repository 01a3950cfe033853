using Actors.HwBackend.Tests.Guests;
using Actors.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Actors.HwBackend.Tests.Kvm;

/// <summary>
/// The conformance suite on the KVM backend: every image in guests/ must end with QEMU's exit status and
/// console output, as the software CPU's tests require of it. Here without /dev/kvm, it runs nested: the
/// suite's program (tests/Actors.HwBackend.KvmConformance) inside a Linux guest of QEMU TCG that loads kvm-amd.
/// </summary>
[Collection(TimingSensitiveCollection.Name)]
public sealed class KvmConformanceTests(ITestOutputHelper log)
{
    [Fact]
    public async Task Every_guest_image_ends_on_KVM_as_it_does_under_QEMU()
    {
        string guests = GuestImages.GuestsDirectory;
        string images = BuiltImages(guests);
        string linux = LinuxFiles();
        string output;
        try
        {
            output = await RunNestedAsync(guests, images, linux);
            if (!output.Contains("\nNESTED exit ", StringComparison.Ordinal))
            {
                // The runner's init script never saw it end: the host under it died (QEMU TCG's nested SVM or the
                // nested kernel), which says nothing of this backend. Once more, with the first try on record. A
                // runner that crashes or fails a check ends with that line and is not tried again.
                log.WriteLine($"the nested host died before the runner finished; its console ended with:\n{Tail(output)}\ntrying once more");
                output = await RunNestedAsync(guests, images, linux);
            }
        }
        finally
        {
            Directory.Delete(images, recursive: true);
            Directory.Delete(linux, recursive: true);
        }

        // The whole console (the nested host's kernel included) is kept: a run that ends early says why there.
        string artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;
        File.WriteAllText(Path.Combine(artifacts, "kvm-conformance-console.txt"), output);
        string[] lines = StockLinux.UserLines(output).Select(l => l.TrimEnd('\r')).ToArray();
        foreach (string line in lines)
            log.WriteLine(line);
        if (!Finished(output))
            Assert.Fail($"the runner did not finish; the console ended with:\n{Tail(output)}");
        Assert.DoesNotContain(lines, l => l.StartsWith("NESTED no /dev/kvm", StringComparison.Ordinal) || l.StartsWith("NESTED insmod", StringComparison.Ordinal));
        string[] failures = [.. lines.Where(l => l.StartsWith("FAIL ", StringComparison.Ordinal))];
        Assert.True(failures.Length == 0, string.Join("\n", failures));
        string[] contract = ["state-round-trip", "port-out-flood", "string-io", "mmio-window", "dirty-log", "triple-fault"];
        IEnumerable<string> checks = GuestImages.All.Concat(GuestImages.Platform.Select(p => p.Name)).Concat(GuestImages.Runs.Select(r => r.Name)).Select(g => $"guest-{g}")
            .Concat(contract.SelectMany(c => new[] { $"kvm/{c}", $"emulator/{c}" }))
            .Concat(["migrate-kvm-software-kvm", "linux-boot-1", "linux-boot-2", "linux-hyperv"]);
        foreach (string check in checks)
            Assert.Contains(lines, l => l.StartsWith($"PASS {check} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("DONE ", StringComparison.Ordinal));
    }

    private static Task<string> RunNestedAsync(string guests, string images, string linux) =>
        NestedKvmHost.RunAsync(
            RunnerDirectory(),
            "Actors.HwBackend.KvmConformance.dll",
            arguments: ["--nested", "/guests", "/linux"],
            directArguments: [guests, linux],
            files: new Dictionary<string, string>
            {
                [Path.Combine(guests, "expected")] = "guests/expected",
                [images] = "guests/build",
                [linux] = "linux",
            });

    private static bool Finished(string output) => output.Contains("\nDONE ", StringComparison.Ordinal);

    private static string Tail(string output) => string.Join('\n', output.Split('\n').TakeLast(40));

    /// <summary>The runner's build output beside this test assembly's: tests/Actors.HwBackend.KvmConformance/bin/CONFIGURATION/net10.0.</summary>
    private static string RunnerDirectory()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string framework = testOutput.Name, configuration = testOutput.Parent!.Name;
        string directory = Path.Combine(StockLinux.RepositoryRoot(), "tests", "Actors.HwBackend.KvmConformance", "bin", configuration, framework);
        return File.Exists(Path.Combine(directory, "Actors.HwBackend.KvmConformance.dll"))
            ? directory
            : throw new FileNotFoundException($"the KVM conformance runner is not built at {directory}");
    }

    /// <summary>
    /// The enlightened VM's /init (<c>linux-hyperv</c>): Linux's own VMBus driver, integration services and SCSI
    /// driver; it waits (at most a minute each, nesting is slow) for hv_utils to bind all four services and for the
    /// disk to appear, reads the line the runner put in the disk's sector 8 and writes one to sector 16, then lists
    /// the VMBus devices with the drivers that bound them and the clocksources the kernel registered.
    /// </summary>
    private const string HyperVScript = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
        insmod /hv_vmbus.ko && echo "hv_vmbus: loaded"
        insmod /hv_utils.ko && echo "hv_utils: loaded"
        for m in scsi_common scsi_mod scsi_transport_fc hv_storvsc sd_mod; do insmod /$m.ko || echo "insmod $m failed"; done
        i=0
        while [ $(ls /sys/bus/vmbus/drivers/hv_utils 2>/dev/null | grep -c -- -) -lt 4 ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
        i=0
        while [ ! -b /dev/sda ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
        echo "disk says: $(dd if=/dev/sda bs=512 skip=8 count=1 2>/dev/null | head -n 1)"
        echo "guest wrote this" | dd of=/dev/sda bs=512 seek=16 conv=sync,fsync 2>/dev/null && echo "disk: written"
        for d in /sys/bus/vmbus/devices/*; do echo "device $(basename $d): class $(cat $d/class_id), driver $(basename "$(readlink $d/driver)")"; done
        echo "clocksources: $(cat /sys/devices/system/clocksource/clocksource0/available_clocksource)"
        poweroff -f
        """;

    /// <summary>The stock kernel and an initrd running the software CPU's stock Linux script, for the runner's Linux checks.</summary>
    private static string LinuxFiles()
    {
        string directory = Directory.CreateTempSubdirectory("actors-kvm-linux-").FullName;
        File.Copy(StockLinux.KernelPath, Path.Combine(directory, "vmlinuz"));
        File.WriteAllBytes(Path.Combine(directory, "initrd"), StockLinux.Initrd(Linux.StockLinuxBootTests.Script));
        File.WriteAllBytes(Path.Combine(directory, "initrd-hyperv"), StockLinux.InitrdWithModules(HyperVScript, [.. StockLinux.StorageModules, "hv_utils.ko"]));
        File.WriteAllText(Path.Combine(directory, "sha256"), Linux.StockLinuxBootTests.HostHash());
        return directory;
    }

    /// <summary>Only the guest images themselves go into the nested guest, not guests/build's objects and the stock Linux tree.</summary>
    private static string BuiltImages(string guests)
    {
        string directory = Directory.CreateTempSubdirectory("actors-kvm-guests-").FullName;
        foreach (string image in Directory.EnumerateFiles(Path.Combine(guests, "build"), "*.elf"))
            File.Copy(image, Path.Combine(directory, Path.GetFileName(image)));
        return directory;
    }
}
