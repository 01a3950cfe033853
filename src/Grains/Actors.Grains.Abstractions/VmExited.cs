namespace Actors.Grains;

/// <summary>How a VM's run ended, reported by its host's backend to the partition.</summary>
[GenerateSerializer]
[Alias("Actors.VmExited")]
public sealed record VmExited(
    [property: Id(0)] string Reason,
    [property: Id(1)] int? ExitStatus,
    [property: Id(2)] bool Failed,
    [property: Id(3)] ulong InstructionsRetired,
    [property: Id(4)] long ConsoleBytes = 0,
    [property: Id(5)] IReadOnlyList<string>? Unimplemented = null);
