namespace Actors.Grains;

/// <summary>A virtual disk: its name, the host whose store holds its bytes, its size, when it was made, and the image (an image store id) it is a copy-on-write layer over, if any.</summary>
/// <param name="Name">The disk's name (1-64 letters, digits, '-', '_' and '.').</param>
/// <param name="Host">The host whose disk store holds the disk's bytes.</param>
/// <param name="SizeBytes">The disk's size in bytes, as the guest sees it.</param>
/// <param name="CreatedAt">When the disk was made (UTC).</param>
/// <param name="BaseImage">The image store id of the image the disk is a copy-on-write layer over, or null for a disk of its own.</param>
[GenerateSerializer]
[Alias("Actors.DiskInfo")]
public sealed record DiskInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string Host,
    [property: Id(2)] long SizeBytes,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] string? BaseImage = null);
