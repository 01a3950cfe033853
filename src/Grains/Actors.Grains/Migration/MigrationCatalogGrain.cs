namespace Actors.Grains.Migration;

/// <summary>Every migration with its last known status, kept current by the coordinators.</summary>
public sealed class MigrationCatalogGrain(
    [PersistentState("migrations", MigrationGrain.StorageName)] IPersistentState<MigrationCatalogRecord> record) : Grain, IMigrationCatalogGrain
{
    // Long enough for a live coordinator, short enough that one on a dying silo does not hold up a listing.
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);

    public async Task UpsertAsync(MigrationStatus status)
    {
        record.State.Migrations[status.Id] = status;
        await record.WriteStateAsync();
    }

    /// <summary>
    /// Every migration, oldest first. Each one still running here is asked for its status: a
    /// coordinator's own report may have been lost with a silo, and asking activates one whose silo
    /// died, which then settles its migration (a later listing shows how it ended).
    /// </summary>
    public async Task<IReadOnlyList<MigrationStatus>> ListAsync()
    {
        bool changed = false;
        foreach (MigrationStatus running in record.State.Migrations.Values.Where(m => !m.Ended).ToList())
        {
            try
            {
                MigrationStatus current = await GrainFactory.GetGrain<IMigrationGrain>(running.Id).GetStatusAsync().WaitAsync(AskTimeout);
                if (current != running)
                {
                    record.State.Migrations[running.Id] = current;
                    changed = true;
                }
            }
            catch (Exception e) when (SiloLoss.IsTransient(e) || e is HypervisorException)
            {
                // Its silo is going or its record is gone; the listing shows what was last known.
            }
        }

        if (changed)
            await record.WriteStateAsync();
        return record.State.Migrations.Values.OrderBy(m => m.StartedAt).ToList();
    }
}
