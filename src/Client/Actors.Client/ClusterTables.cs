using System.Globalization;
using Actors.Grains;

namespace Actors.Client;

/// <summary>The tables <c>hvctl vm list</c> and <c>hvctl host list</c> print.</summary>
public static class ClusterTables
{
    public static string FormatVms(IEnumerable<VmStatus> vms) =>
        TableFormatter.Format(
            ["NAME", "STATE", "HOST", "MEMORY", "VCPUS"],
            vms.OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => (IReadOnlyList<string>)
            [
                v.Name,
                v.State.ToString(),
                v.Host ?? "-",
                SizeParser.Format(v.Configuration.MemoryBytes),
                v.Configuration.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ]));

    public static string FormatHosts(IEnumerable<HostInfo> hosts) =>
        TableFormatter.Format(
            ["HOST", "BACKEND", "CORES", "MEMORY", "FREE", "VMS"],
            hosts.OrderBy(h => h.Host, StringComparer.Ordinal).Select(h => (IReadOnlyList<string>)
            [
                h.Host,
                h.Backend,
                h.Cores.ToString(CultureInfo.InvariantCulture),
                Megabytes(h.MemoryTotalBytes),
                Megabytes(h.MemoryFreeBytes),
                h.RunningVms.Count == 0 ? "-" : string.Join(",", h.RunningVms.Order(StringComparer.Ordinal)),
            ]));

    // Host memory is rarely a round number; whole MiB are what a reader compares with VM sizes.
    private static string Megabytes(ulong bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 20}M");
}
