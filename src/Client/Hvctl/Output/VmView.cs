using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>
/// A VM as <c>vm show -o json</c> prints it, and as <c>vm list -o json</c> prints each element: one shape for both.
/// Its fields are hvctl's documented interface (docs/hvctl.md) and are copied from the grain contract field by
/// field, so that renaming a contract field breaks this build instead of silently changing the JSON.
/// </summary>
internal sealed record VmView(
    string Name,
    VmState State,
    string? Host,
    string? PreferredHost,
    string? Backend,
    string? CpuTier,
    string? Image,
    string ImageId,
    string? InitrdId,
    string? CommandLine,
    ulong MemoryBytes,
    int Vcpus,
    bool Hyperv,
    string? VspHost,
    IReadOnlyList<VmDiskView> Disks,
    IReadOnlyList<VmNicView> Nics,
    IReadOnlyDictionary<string, string> FwCfg,
    DateTime? StartedAt,
    ulong InstructionsRetired,
    string? Translation,
    long ConsoleBytes,
    int? ExitStatus,
    string? EndReason,
    string? FailureReason,
    string? Heartbeat,
    IReadOnlyList<IntegrationServiceView> IntegrationServices,
    IReadOnlyList<string> Unimplemented)
{
    public static VmView From(VmStatus status)
    {
        VmConfiguration config = status.Configuration;
        return new VmView(
            status.Name,
            status.State,
            status.Host,
            config.PreferredHost,
            config.Backend?.ToString(),
            config.CpuTier,
            config.ImageName,
            config.ImageId,
            config.InitrdId,
            config.CommandLine,
            config.MemoryBytes,
            config.ProcessorCount,
            config.Enlightened,
            config.VspHost,
            VmDiskView.AllOf(config.Disks),
            [.. (config.Nics ?? []).Select((nic, index) => VmNicView.From(status.Name, index, nic))],
            new SortedDictionary<string, string>(config.FirmwareFiles ?? [], StringComparer.Ordinal),
            status.StartedAt?.UtcDateTime,
            status.InstructionsRetired,
            status.CpuTier,
            status.ConsoleBytes,
            status.ExitStatus,
            status.EndReason,
            status.FailureReason,
            status.Heartbeat,
            [.. (status.IntegrationServices ?? []).Select(IntegrationServiceView.Parse)],
            status.Unimplemented ?? []);
    }
}
