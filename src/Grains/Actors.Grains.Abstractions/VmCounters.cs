namespace Actors.Grains;

/// <summary>What a running VM's worker counts, as <c>vm show</c> reports it.</summary>
/// <param name="InstructionsRetired">Instructions the VM's vCPUs retired since it started, on every host it ran on.</param>
/// <param name="ConsoleBytes">Bytes the guest wrote to its serial console since it started.</param>
/// <param name="Unimplemented">What the guest used that is not implemented, one line each, with where it first did and how often.</param>
/// <param name="Heartbeat">The heartbeat integration service's state, for a VM that sees Hyper-V; null otherwise.</param>
/// <param name="IntegrationServices">Every integration service's state, one "name: state" line each, for a VM that sees Hyper-V; null otherwise.</param>
/// <param name="CpuTier">How the software CPU runs it, with the translating tier's counters, in one line; null on KVM.</param>
[GenerateSerializer]
[Alias("Actors.VmCounters")]
public sealed record VmCounters(
    [property: Id(0)] ulong InstructionsRetired,
    [property: Id(1)] long ConsoleBytes,
    [property: Id(2)] IReadOnlyList<string> Unimplemented,
    [property: Id(3)] string? Heartbeat = null,
    [property: Id(4)] IReadOnlyList<string>? IntegrationServices = null,
    [property: Id(5)] string? CpuTier = null);
