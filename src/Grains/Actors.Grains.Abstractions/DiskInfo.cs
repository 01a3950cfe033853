namespace Actors.Grains;

/// <summary>A virtual disk: its name, the host whose store holds its bytes, its size, and when it was made.</summary>
[GenerateSerializer]
[Alias("Actors.DiskInfo")]
public sealed record DiskInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string Host,
    [property: Id(2)] long SizeBytes,
    [property: Id(3)] DateTimeOffset CreatedAt);
