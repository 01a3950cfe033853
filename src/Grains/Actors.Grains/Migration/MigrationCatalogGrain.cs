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

    /// <summary>
    /// Every migration, oldest first. Each one still running is looked in on (not awaited): one whose
    /// coordinator died with its silo then settles itself, and the next listing shows how it ended.
    /// </summary>
    [ReadOnly]
    public Task<IReadOnlyList<MigrationStatus>> ListAsync()
    {
        foreach (MigrationStatus running in record.State.Migrations.Values.Where(m => !m.Ended))
            _ = GrainFactory.GetGrain<IMigrationGrain>(running.Id).GetStatusAsync().ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        return Task.FromResult<IReadOnlyList<MigrationStatus>>(record.State.Migrations.Values.OrderBy(m => m.StartedAt).ToList());
    }
}
