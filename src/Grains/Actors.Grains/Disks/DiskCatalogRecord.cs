namespace Actors.Grains.Disks;

/// <summary>The disk catalog's persisted list, by disk name.</summary>
[GenerateSerializer]
[Alias("Actors.DiskCatalogRecord")]
public sealed class DiskCatalogRecord
{
    [Id(0)] public Dictionary<string, DiskInfo> Disks { get; set; } = new(StringComparer.Ordinal);
}
