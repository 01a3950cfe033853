namespace Actors.Grains.Catalogs;

/// <summary>The VM catalog's persisted list, by VM name.</summary>
[GenerateSerializer]
[Alias("Actors.VmCatalogRecord")]
public sealed class VmCatalogRecord
{
    [Id(0)] public Dictionary<string, VmStatus> Vms { get; set; } = new(StringComparer.Ordinal);
}
