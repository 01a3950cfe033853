using System.Text;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Storage;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.Worker;

namespace Actors.HwBackend.KvmConformance;

/// <summary>
/// Debian's cloud kernel and busybox on a backend: boots to the host test's /init script (the same one the
/// software CPU's stock Linux test runs), which hashes and compresses a file and powers off through ACPI.
/// The directory holds vmlinuz, initrd, and sha256: the hash the script must print; and initrd-hyperv, whose /init
/// loads Linux's own hv_vmbus and hv_utils in an enlightened VM (<c>linux-hyperv</c>).
/// <para>
/// The kernel must keep the TSC as its clocksource, as it does on the software CPU, except when KVM is
/// <paramref name="nested"/> in QEMU TCG: there every port read of Linux's TSC calibration (PIT channel 2,
/// then the PM timer) is an exit that takes around 100 µs instead of 1, the calibration loops see too few
/// reads, and the kernel marks the TSC unstable and falls back to acpi_pm. That is QEMU's speed, not ours.
/// </para>
/// </summary>
internal sealed class LinuxConformance(IHypervisorBackend backend, string linuxDirectory, bool nested)
{
    private const ulong MemoryBytes = 256UL << 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);
    private const int DiskBytes = 8 << 20;
    private const string HostLine = "the host put this here";
    private const string GuestLine = "guest wrote this\n";

    public IEnumerable<(string Name, Func<string?> Check)> All()
    {
        yield return ("linux-boot-1", () => Boot(1));
        yield return ("linux-boot-2", () => Boot(2));
        yield return ("linux-hyperv", () => BootEnlightened(2));
    }

    /// <summary>
    /// The kernel finds Microsoft Hyper-V, hv_vmbus connects over SynIC messages (HvPostMessage through the hypercall
    /// page), hv_utils binds every integration service, and hv_storvsc finds the disk, reads the line the host put on
    /// it and writes one back (the data through the channel's rings and the guest's GPADLs); the initrd's /init lists
    /// the VMBus devices with their drivers and the clocksources, then powers off.
    /// </summary>
    private string? BootEnlightened(int processors)
    {
        byte[] kernel = File.ReadAllBytes(Path.Combine(linuxDirectory, "vmlinuz"));
        byte[] initrd = File.ReadAllBytes(Path.Combine(linuxDirectory, "initrd-hyperv"));
        var console = new ConsoleCapture();
        using var ended = new RunEnd();
        var disk = new MemoryBlockStore(DiskBytes);
        disk.Write(8 * 512, Encoding.ASCII.GetBytes(HostLine + "\n"));
        using VmWorker worker = VmWorker.Create(
            backend, $"linux-hv{processors}", kernel, MemoryBytes, processors, console, ended.OnEnded,
            initrd: initrd, commandLine: "console=ttyS0 panic=-1", enlightened: true, disks: [new ScsiDisk(disk, "kvm-conformance")]);
        worker.Start();
        if (!ended.Wait(Deadline))
        {
            worker.Stop();
            return $"did not power off within {Deadline.TotalMinutes:0} minutes; console so far: {console.Tail}";
        }

        string serial = console.Text.Replace("\r\n", "\n", StringComparison.Ordinal);
        string[] lines = [.. serial.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('['))];
        VmRunEnded end = ended.Last!;
        if (end.Reason != VmWorker.PowerOffReason || end.ExitStatus != 0)
            return $"ended by {end.Reason} (status {end.ExitStatus?.ToString() ?? "none"}), not a poweroff; console: {console.Tail}";
        string[] kernelSays = ["Hypervisor detected: Microsoft Hyper-V\n", "clocksource: hyperv_clocksource_tsc_page: ", "hv_vmbus: Vmbus version:"];
        if (kernelSays.FirstOrDefault(k => !serial.Contains(k, StringComparison.Ordinal)) is { } unsaid)
            return $"the kernel did not say '{unsaid.TrimEnd()}'; console: {console.Tail}";
        IEnumerable<string> expected = new[] { $"cpus: {processors}", "hv_vmbus: loaded", "hv_utils: loaded", $"disk says: {HostLine}", "disk: written" }
            .Concat(VmBusOffer.IntegrationServices.Select(o => $"device {o.InterfaceInstance}: class {{{o.InterfaceType}}}, driver hv_utils"));
        if (expected.FirstOrDefault(e => !lines.Contains(e)) is { } missing)
            return $"the script's line '{missing}' is missing; console: {console.Tail}";
        string written = Encoding.ASCII.GetString(disk.Bytes.Slice(16 * 512, GuestLine.Length));
        if (written != GuestLine)
            return $"the disk's sector 16 holds '{written}', not the line the guest wrote";
        if (!lines.Any(l => l.StartsWith("clocksources: ", StringComparison.Ordinal) && l.Contains("hyperv_clocksource_tsc_page", StringComparison.Ordinal)))
            return $"hyperv_clocksource_tsc_page is not an available clocksource; console: {console.Tail}";
        if (serial.Contains("unchecked MSR access error", StringComparison.Ordinal))
            return $"the kernel met a #GP from an MSR; console: {console.Tail}";
        if (worker.Unimplemented.FirstOrDefault(u => u.Subject.StartsWith("MSR 0x400000", StringComparison.Ordinal)) is { } msr)
            return $"the guest used a synthetic MSR that is not here: {msr}";
        // The bus's messages came through the hypercall page: HvPostMessage calls that succeeded.
        long posted = worker.HypercallCounts().Where(c => c.Call == "HvPostMessage" && c.Status == HvStatus.Success).Sum(c => c.Count);
        if (posted == 0)
            return $"no HvPostMessage succeeded; the hypercalls: {string.Join(", ", worker.HypercallCounts())}";
        return null;
    }

    private string? Boot(int processors)
    {
        byte[] kernel = File.ReadAllBytes(Path.Combine(linuxDirectory, "vmlinuz"));
        byte[] initrd = File.ReadAllBytes(Path.Combine(linuxDirectory, "initrd"));
        var console = new ConsoleCapture();
        using var ended = new RunEnd();
        using VmWorker worker = VmWorker.Create(
            backend, $"linux{processors}", kernel, MemoryBytes, processors, console, ended.OnEnded,
            initrd: initrd, commandLine: "console=ttyS0 panic=-1");
        worker.Start();
        if (!ended.Wait(Deadline))
        {
            worker.Stop();
            return $"did not power off within {Deadline.TotalMinutes:0} minutes; console so far: {console.Tail}";
        }

        string serial = console.Text;
        string[] lines = [.. serial.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Where(l => l.Length > 0 && !l.StartsWith('['))];
        // The host computed it: hashing here would need libssl, which the nested guest does not have.
        string hash = File.ReadAllText(Path.Combine(linuxDirectory, "sha256")).Trim();
        string[] expected = [$"cpus: {processors}", $"sha256: {hash}", $"roundtrip: {hash}", "done"];
        VmRunEnded end = ended.Last!;
        if (end.Reason != VmWorker.PowerOffReason || end.ExitStatus != 0)
            return $"ended by {end.Reason} (status {end.ExitStatus?.ToString() ?? "none"}), not an ACPI poweroff; console: {console.Tail}";
        if (expected.FirstOrDefault(e => !lines.Contains(e)) is { } missing)
            return $"the script's line '{missing}' is missing; console: {console.Tail}";
        bool tsc = serial.Contains("clocksource: Switched to clocksource tsc\n", StringComparison.Ordinal) && !serial.Contains("Marking TSC unstable", StringComparison.Ordinal);
        if (!tsc && !nested)
            return $"the TSC is not the clocksource; the kernel said: {string.Join(" | ", serial.Split('\n').Where(l => l.Contains("tsc", StringComparison.OrdinalIgnoreCase) || l.Contains("clocksource", StringComparison.Ordinal)))}";
        return null;
    }
}
