namespace Actors.Grains;

/// <summary>A live migration as its coordinator sees it, while it runs and after.</summary>
/// <param name="Id">The migration's id, the key of its coordinator grain.</param>
/// <param name="Vm">The VM being moved.</param>
/// <param name="Source">The host it moves from.</param>
/// <param name="Target">The host it moves to.</param>
/// <param name="State">Copying, Completed or Failed.</param>
/// <param name="Pass">The last pre-copy pass that finished (1 is the full copy of RAM).</param>
/// <param name="PagesRemaining">Pages (4 KiB) the guest dirtied during the last pass, still to be sent; 0 once completed.</param>
/// <param name="DirtyPagesPerSecond">How fast the guest dirtied pages during the last pass, in 4 KiB pages per second.</param>
/// <param name="BytesPerSecond">The send rate the last pass that sent anything reached, in bytes per second.</param>
/// <param name="BytesSent">Bytes sent so far, over all passes and the switch-over.</param>
/// <param name="MemoryBytes">The VM's RAM in bytes, to compare <paramref name="BytesSent"/> with.</param>
/// <param name="StartedAt">When the migration started (UTC).</param>
/// <param name="EndedAt">When it completed or failed (UTC); null while it runs.</param>
/// <param name="Downtime">How long the guest was stopped at the switch-over; null until it completed (and if its coordinator was lost after the switch-over).</param>
/// <param name="Reason">Why it failed, and where the VM runs then; null otherwise (or a note on a completion its coordinator did not see).</param>
/// <param name="ThrottlePercent">The share of the guest's CPU time auto-converge took away in the last pass, 0 to 99.</param>
[GenerateSerializer]
[Alias("Actors.MigrationStatus")]
public sealed record MigrationStatus(
    [property: Id(0)] string Id,
    [property: Id(1)] string Vm,
    [property: Id(2)] string Source,
    [property: Id(3)] string Target,
    [property: Id(4)] MigrationState State,
    [property: Id(5)] int Pass,
    [property: Id(6)] long PagesRemaining,
    [property: Id(7)] double DirtyPagesPerSecond,
    [property: Id(8)] double BytesPerSecond,
    [property: Id(9)] long BytesSent,
    [property: Id(10)] long MemoryBytes,
    [property: Id(11)] DateTimeOffset StartedAt,
    [property: Id(12)] DateTimeOffset? EndedAt,
    [property: Id(13)] TimeSpan? Downtime,
    [property: Id(14)] string? Reason,
    [property: Id(15)] int ThrottlePercent = 0)
{
    /// <summary>The migration's total time: start to end, or to now while it runs.</summary>
    public TimeSpan Elapsed => (EndedAt ?? DateTimeOffset.UtcNow) - StartedAt;

    /// <summary>Whether the migration is over (Completed or Failed): its status no longer changes.</summary>
    public bool Ended => State is MigrationState.Completed or MigrationState.Failed;
}
