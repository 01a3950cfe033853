namespace Actors.Grains;

/// <summary>
/// What a migration target needs, besides RAM, to continue a stopped guest: the machine's snapshot
/// (devices, vCPUs, clock, console position) and the source's instruction count, so the VM's
/// counter carries on.
/// </summary>
/// <param name="Snapshot">The stopped machine's state in the snapshot format (everything but RAM).</param>
/// <param name="InstructionsRetired">Instructions the VM's vCPUs had retired on every host before this one.</param>
[GenerateSerializer]
[Alias("Actors.MigrationHandover")]
public sealed record MigrationHandover(
    [property: Id(0)] byte[] Snapshot,
    [property: Id(1)] ulong InstructionsRetired);
