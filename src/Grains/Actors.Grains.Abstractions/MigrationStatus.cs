namespace Actors.Grains;

/// <summary>A live migration as its coordinator sees it, while it runs and after.</summary>
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
    public TimeSpan Elapsed => (EndedAt ?? DateTimeOffset.UtcNow) - StartedAt;

    public bool Ended => State is MigrationState.Completed or MigrationState.Failed;
}
