namespace Actors.Grains;

/// <summary>
/// What a migration target needs, besides RAM, to continue a stopped guest: the encoded machine
/// state (devices, vCPUs, clock, console position) and the source's instruction count, so the VM's
/// counter carries on.
/// </summary>
[GenerateSerializer]
[Alias("Actors.MachineHandover")]
public sealed record MachineHandover(
    [property: Id(0)] byte[] MachineState,
    [property: Id(1)] ulong InstructionsRetired);
