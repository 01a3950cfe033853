namespace Actors.Grains;

/// <summary>A batch of a VM's serial output. <see cref="Sequence"/> is the offset of the first byte in the VM's whole output, so a subscriber can tell a gap from a repeat.</summary>
/// <param name="Sequence">The offset of <paramref name="Data"/>'s first byte in the VM's output since it started; negative for an in-band marker, which is not console output.</param>
/// <param name="Data">The bytes the guest wrote to its serial port, as it wrote them.</param>
[GenerateSerializer]
[Alias("Actors.ConsoleOutput")]
[Immutable]
public sealed record ConsoleOutput(
    [property: Id(0)] long Sequence,
    [property: Id(1)] byte[] Data);
