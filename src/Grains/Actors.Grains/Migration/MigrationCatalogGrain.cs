using Orleans.Concurrency;

namespace Actors.Grains.Migration;

/// <summary>Every migration with its last known status, kept current by the coordinators.</summary>
public sealed class MigrationCatalogGrain(
    [PersistentState("migrations", MigrationGrain.StorageName)] IPersistentState<MigrationCatalogRecord> record) : Grain, IMigrationCatalogGrain
{
    public async Task UpsertAsync(MigrationStatus status)
    {
        record.State.Migrations[status.Id] = status;
        await record.WriteStateAsync();
    }

    [ReadOnly]
    public Task<IReadOnlyList<MigrationStatus>> ListAsync() =>
        Task.FromResult<IReadOnlyList<MigrationStatus>>(record.State.Migrations.Values.OrderBy(m => m.StartedAt).ToList());
}
