namespace Actors.Grains;

/// <summary>A guest image in the store: its content id (SHA-256, hex), size and whether every chunk has arrived.</summary>
/// <param name="ImageId">The image's content id: the lower-case hex SHA-256 of its bytes.</param>
/// <param name="Length">The image's size in bytes (of the upload under way, while it is incomplete).</param>
/// <param name="Complete">Whether every byte has arrived and the hash matched the id, so VMs can boot from it.</param>
[GenerateSerializer]
[Alias("Actors.ImageInfo")]
public sealed record ImageInfo(
    [property: Id(0)] string ImageId,
    [property: Id(1)] long Length,
    [property: Id(2)] bool Complete);
