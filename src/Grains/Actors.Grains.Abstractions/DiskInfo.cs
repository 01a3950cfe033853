namespace Actors.Grains;

/// <summary>A virtual disk: its name, the host whose store holds its bytes, its size, when it was made, and the image (an image store id) it is a copy-on-write layer over, if any.</summary>
[GenerateSerializer]
[Alias("Actors.DiskInfo")]
public sealed record DiskInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string Host,
    [property: Id(2)] long SizeBytes,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] string? BaseImage = null);
