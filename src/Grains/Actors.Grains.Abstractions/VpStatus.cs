namespace Actors.Grains;

/// <summary>One virtual processor: where it runs, what it did, and its registers when asked.</summary>
/// <param name="VmName">The VM the vCPU belongs to.</param>
/// <param name="Index">The vCPU's index, from 0.</param>
/// <param name="Host">The host it runs on, or null when its VM runs nowhere.</param>
/// <param name="Paused">Whether it alone is paused (<see cref="IVirtualProcessorGrain.PauseAsync"/>; a whole VM's pause does not show here).</param>
/// <param name="InstructionsRetired">Instructions it retired in its VM's current run on its host.</param>
/// <param name="ExitsByReason">How often it left guest code, by reason ("port-in", "port-out", "mmio-read", "mmio-write", "halt", "hypercall", ...).</param>
/// <param name="Registers">Its registers when asked for; null otherwise.</param>
[GenerateSerializer]
[Alias("Actors.VpStatus")]
public sealed record VpStatus(
    [property: Id(0)] string VmName,
    [property: Id(1)] int Index,
    [property: Id(2)] string? Host,
    [property: Id(3)] bool Paused,
    [property: Id(4)] ulong InstructionsRetired,
    [property: Id(5)] IReadOnlyDictionary<string, long> ExitsByReason,
    [property: Id(6)] VpRegisters? Registers);
