namespace Actors.Grains;

/// <summary>A guest image in the store: its content id (SHA-256, hex), size and whether every chunk has arrived.</summary>
[GenerateSerializer]
[Alias("Actors.ImageInfo")]
public sealed record ImageInfo(
    [property: Id(0)] string ImageId,
    [property: Id(1)] long Length,
    [property: Id(2)] bool Complete);
