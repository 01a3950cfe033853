namespace Actors.Grains;

/// <summary>One virtual processor: where it runs, what it did, and its registers when asked.</summary>
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
