namespace Actors.Grains;

/// <summary>The registers a user looks at first (the full state stays with the backend).</summary>
[GenerateSerializer]
[Alias("Actors.VpRegisters")]
public sealed record VpRegisters(
    [property: Id(0)] ulong[] Gprs,
    [property: Id(1)] ulong Rip,
    [property: Id(2)] ulong Rflags,
    [property: Id(3)] ulong Cr0,
    [property: Id(4)] ulong Cr3,
    [property: Id(5)] ulong Cr4,
    [property: Id(6)] ulong Efer,
    [property: Id(7)] ushort Cs);
