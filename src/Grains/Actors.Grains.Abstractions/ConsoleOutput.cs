namespace Actors.Grains;

/// <summary>A batch of a VM's serial output. <see cref="Sequence"/> is the offset of the first byte in the VM's whole output, so a subscriber can tell a gap from a repeat.</summary>
[GenerateSerializer]
[Alias("Actors.ConsoleOutput")]
[Immutable]
public sealed record ConsoleOutput(
    [property: Id(0)] long Sequence,
    [property: Id(1)] byte[] Data);
