namespace Actors.Grains.Migration;

/// <summary>What a migration coordinator persists: its last status. Null = no such migration.</summary>
[GenerateSerializer]
[Alias("Actors.MigrationRecord")]
public sealed class MigrationRecord
{
    [Id(0)] public MigrationStatus? Status { get; set; }

    [Id(1)] public MigrationOptions? Options { get; set; }
}
