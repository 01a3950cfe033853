namespace Actors.Grains;

/// <summary>A VM as the catalog and <c>hvctl vm show</c> see it.</summary>
/// <param name="Name">The VM's name.</param>
/// <param name="State">Where it stands in its lifecycle.</param>
/// <param name="Configuration">What it was created as.</param>
/// <param name="Host">The host it runs on, or last ran on; null before it was first placed.</param>
/// <param name="FailureReason">Why it is Failed; null otherwise.</param>
/// <param name="ExitStatus">How its last run ended, QEMU-style: (value &lt;&lt; 1) | 1 for a write of value to isa-debug-exit, 0 for an ACPI power-off; null while it runs or when it ended otherwise.</param>
/// <param name="InstructionsRetired">Instructions its vCPUs retired in the current or last run, on every host it ran on.</param>
/// <param name="ConsoleBytes">Bytes the guest wrote to its serial console in the current or last run: where the console stream's end is.</param>
/// <param name="StartedAt">When its current or last run started (UTC); null if it never ran.</param>
/// <param name="EndReason">Why its last run ended ("debug-exit", "acpi-poweroff", "reset ...", a failure); null while it runs.</param>
/// <param name="Unimplemented">What the guest used that is not implemented, one line each, with where it first did and how often; null for nothing.</param>
/// <param name="Heartbeat">The heartbeat integration service's state, for a running VM that sees Hyper-V; null otherwise.</param>
/// <param name="IntegrationServices">Every integration service's state, one "name: state" line each, for a running VM that sees Hyper-V; null otherwise.</param>
/// <param name="CpuTier">How the software CPU runs it, with the translating tier's counters, for a running VM on the software CPU; null otherwise.</param>
[GenerateSerializer]
[Alias("Actors.VmStatus")]
public sealed record VmStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] VmState State,
    [property: Id(2)] VmConfiguration Configuration,
    [property: Id(3)] string? Host,
    [property: Id(4)] string? FailureReason,
    [property: Id(5)] int? ExitStatus,
    [property: Id(6)] ulong InstructionsRetired,
    [property: Id(7)] long ConsoleBytes,
    [property: Id(8)] DateTimeOffset? StartedAt,
    [property: Id(9)] string? EndReason = null,
    [property: Id(10)] IReadOnlyList<string>? Unimplemented = null,
    [property: Id(11)] string? Heartbeat = null,
    [property: Id(12)] IReadOnlyList<string>? IntegrationServices = null,
    [property: Id(13)] string? CpuTier = null);
