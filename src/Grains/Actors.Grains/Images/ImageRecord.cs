namespace Actors.Grains.Images;

/// <summary>A stored image: written once, when its hash has been verified.</summary>
[GenerateSerializer]
[Alias("Actors.ImageRecord")]
public sealed class ImageRecord
{
    [Id(0)] public byte[]? Data { get; set; }
}
