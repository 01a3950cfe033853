using System.Globalization;
using Actors.Grains;

namespace Actors.Client;

/// <summary>The tables <c>hvctl vm list</c>, <c>host list</c>, <c>disk list</c>, <c>switch list</c> and their kin print.</summary>
public static class ClusterTables
{
    /// <summary>One row per VM, by name: its state, host, memory, vCPUs and heartbeat (for a running VM that sees Hyper-V).</summary>
    public static string FormatVms(IEnumerable<VmStatus> vms) =>
        TableFormatter.Format(
            ["NAME", "STATE", "HOST", "MEMORY", "VCPUS", "HEARTBEAT"],
            vms.OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => (IReadOnlyList<string>)
            [
                v.Name,
                v.State.ToString(),
                v.Host ?? "-",
                SizeParser.Format(v.Configuration.MemoryBytes),
                v.Configuration.ProcessorCount.ToString(CultureInfo.InvariantCulture),
                v.Configuration.Enlightened && v.State is VmState.Running or VmState.Paused ? Headline(v.Heartbeat) : "-",
            ]));

    /// <summary>A state's words before its details in parentheses ("ok, 0.4 s ago"), for a table's narrow column.</summary>
    private static string Headline(string? state)
    {
        if (state is null)
            return "-";
        int details = state.IndexOf(" (", StringComparison.Ordinal);
        return details < 0 ? state : state[..details];
    }

    /// <summary>The bus's version line, then one row per channel.</summary>
    public static string FormatVmBus(VmBusStatus bus) =>
        $"VMBus on {bus.Host}: {(bus.Connected ? $"version {bus.Version}" : "the guest has not connected")}\n"
        + TableFormatter.Format(
            ["RELID", "DEVICE", "STATE", "VP", "RING PAGES", "SERVED BY", "INSTANCE"],
            bus.Channels.Select(c => (IReadOnlyList<string>)
            [
                c.Relid.ToString(CultureInfo.InvariantCulture),
                c.Device,
                c.State,
                c.TargetVp?.ToString(CultureInfo.InvariantCulture) ?? "-",
                c.RingPages == 0 ? "-" : c.RingPages.ToString(CultureInfo.InvariantCulture),
                c.ServedBy,
                c.Instance.ToString(),
            ]));

    /// <summary>One row per disk, in the order given: its size, host, when it was made, and the image it is a layer over.</summary>
    public static string FormatDisks(IEnumerable<DiskInfo> disks) =>
        TableFormatter.Format(
            ["NAME", "SIZE", "HOST", "CREATED", "OVER IMAGE"],
            disks.Select(d => (IReadOnlyList<string>)
            [
                d.Name,
                SizeParser.Format((ulong)d.SizeBytes),
                d.Host,
                d.CreatedAt.ToString("u", CultureInfo.InvariantCulture),
                d.BaseImage is { } image ? image[..Math.Min(12, image.Length)] : "-",
            ]));

    /// <summary>One row per switch: its name, how many ports are plugged into it, and when it was made.</summary>
    public static string FormatSwitches(IEnumerable<(SwitchInfo Switch, SwitchStatus Status)> switches) =>
        TableFormatter.Format(
            ["NAME", "PORTS", "CREATED"],
            switches.Select(s => (IReadOnlyList<string>)
            [
                s.Switch.Name,
                s.Status.Ports.Count.ToString(CultureInfo.InvariantCulture),
                s.Switch.CreatedAt.ToString("u", CultureInfo.InvariantCulture),
            ]));

    /// <summary>The switch's line (when made, the frames it dropped before any port), then one row per port in the switch's order.</summary>
    public static string FormatSwitch(SwitchInfo info, SwitchStatus status) =>
        string.Create(CultureInfo.InvariantCulture, $"switch {info.Name}: created {info.CreatedAt:u}, {status.Ports.Count} ports, {status.Dropped} frames dropped (malformed, from unplugged ports or spoofed)\n")
        + TableFormatter.Format(
            ["PORT", "MAC", "HOST", "FRAMES IN", "BYTES IN", "FRAMES OUT", "BYTES OUT", "DROPPED"],
            status.Ports.Select(p => (IReadOnlyList<string>)
            [
                p.Port.ToString(),
                p.Port.Mac,
                p.Host ?? "-",
                p.FramesIn.ToString(CultureInfo.InvariantCulture),
                p.BytesIn.ToString(CultureInfo.InvariantCulture),
                p.FramesOut.ToString(CultureInfo.InvariantCulture),
                p.BytesOut.ToString(CultureInfo.InvariantCulture),
                p.Dropped.ToString(CultureInfo.InvariantCulture),
            ]));

    /// <summary>
    /// One row per host, by name: its backend, cores, memory and free memory in MiB, what its backend offers (VT-x/AMD-V,
    /// dirty-page logging for live migration, the interrupt-controller modes, the most vCPUs per VM; "-" for a host
    /// that did not say), and the VMs on it.
    /// </summary>
    public static string FormatHosts(IEnumerable<HostInfo> hosts) =>
        TableFormatter.Format(
            ["HOST", "BACKEND", "CORES", "MEMORY", "FREE", "HW-VIRT", "DIRTY-LOG", "IRQCHIP", "MAX-VCPUS", "VMS"],
            hosts.OrderBy(h => h.Host, StringComparer.Ordinal).Select(h => (IReadOnlyList<string>)
            [
                h.Host,
                h.Backend,
                h.Cores.ToString(CultureInfo.InvariantCulture),
                Megabytes(h.MemoryTotalBytes),
                Megabytes(h.MemoryFreeBytes),
                h.Capabilities is { } c ? YesNo(c.HardwareVirtualization) : "-",
                h.Capabilities is { } d ? YesNo(d.DirtyPageTracking) : "-",
                h.Capabilities is { InterruptControllers.Count: > 0 } i ? string.Join(",", i.InterruptControllers) : "-",
                h.Capabilities is { } m ? m.MaxProcessorsPerMachine.ToString(CultureInfo.InvariantCulture) : "-",
                h.RunningVms.Count == 0 ? "-" : string.Join(",", h.RunningVms.Order(StringComparer.Ordinal)),
            ]));

    private static string YesNo(bool value) => value ? "yes" : "no";

    /// <summary>One row per migration, in the order given: VM, hosts, state, passes, downtime, total time, MiB sent and start time.</summary>
    public static string FormatMigrations(IEnumerable<MigrationStatus> migrations) =>
        TableFormatter.Format(
            ["ID", "VM", "FROM", "TO", "STATE", "PASSES", "DOWNTIME", "TOTAL", "SENT", "STARTED"],
            migrations.Select(m => (IReadOnlyList<string>)
            [
                m.Id,
                m.Vm,
                m.Source,
                m.Target,
                m.State.ToString(),
                m.Pass.ToString(CultureInfo.InvariantCulture),
                m.Downtime is { } d ? Milliseconds(d) : "-",
                m.Ended ? Milliseconds(m.Elapsed) : "-",
                Megabytes((ulong)m.BytesSent),
                m.StartedAt.ToString("u", CultureInfo.InvariantCulture),
            ]));

    /// <summary>A duration in milliseconds with at most one decimal: "12.5ms".</summary>
    public static string Milliseconds(TimeSpan time) => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0.#}ms");

    // Host memory is rarely a round number; whole MiB are what a reader compares with VM sizes.
    private static string Megabytes(ulong bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 20}M");
}
