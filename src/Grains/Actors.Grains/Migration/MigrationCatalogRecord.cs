namespace Actors.Grains.Migration;

/// <summary>The migration catalog's persisted list, by migration id.</summary>
[GenerateSerializer]
[Alias("Actors.MigrationCatalogRecord")]
public sealed class MigrationCatalogRecord
{
    [Id(0)] public Dictionary<string, MigrationStatus> Migrations { get; set; } = new(StringComparer.Ordinal);
}
