namespace Actors.Grains;

/// <summary>Every migration the cluster has run or is running (key 0), for <c>hvctl vm migrations</c>.</summary>
[Alias("Actors.IMigrationCatalogGrain")]
public interface IMigrationCatalogGrain : IGrainWithIntegerKey
{
    [Alias("Upsert")]
    Task UpsertAsync(MigrationStatus status);

    [Alias("List")]
    Task<IReadOnlyList<MigrationStatus>> ListAsync();
}
