namespace Actors.Grains.Catalogs;

/// <summary>The host catalog's persisted set of host names.</summary>
[GenerateSerializer]
[Alias("Actors.HostCatalogRecord")]
public sealed class HostCatalogRecord
{
    [Id(0)] public SortedSet<string> Hosts { get; set; } = new(StringComparer.Ordinal);
}
