namespace Actors.Grains;

/// <summary>A host (silo) and what its hardware backend offers.</summary>
[GenerateSerializer]
[Alias("Actors.HostInfo")]
public sealed record HostInfo(
    [property: Id(0)] string Host,
    [property: Id(1)] string Backend,
    [property: Id(2)] int Cores,
    [property: Id(3)] ulong MemoryTotalBytes,
    [property: Id(4)] ulong MemoryFreeBytes,
    [property: Id(5)] IReadOnlyList<string> RunningVms);
