namespace Actors.Grains;

/// <summary>Every migration the cluster has run or is running (key 0), for <c>hvctl vm migrations</c>.</summary>
[Alias("Actors.IMigrationCatalogGrain")]
public interface IMigrationCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Records a migration's latest status under its id; the coordinator calls it as the migration goes.</summary>
    [Alias("Upsert")]
    Task UpsertAsync(MigrationStatus status);

    /// <summary>Every migration recorded, oldest first.</summary>
    [Alias("List")]
    Task<IReadOnlyList<MigrationStatus>> ListAsync();
}
