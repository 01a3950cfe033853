namespace Actors.Grains;

/// <summary>
/// How a live migration may behave: the pause it may cost the guest, the bandwidth it may use
/// (0 = as fast as the hosts go), and how many pre-copy passes it makes before it stops the guest
/// regardless (a guest that dirties memory faster than it can be sent never converges).
/// </summary>
[GenerateSerializer]
[Alias("Actors.MigrationOptions")]
public sealed record MigrationOptions(
    [property: Id(0)] TimeSpan MaxDowntime,
    [property: Id(1)] long MaxBandwidthBytesPerSecond = 0,
    [property: Id(2)] int MaxPasses = MigrationOptions.DefaultMaxPasses)
{
    public const int DefaultMaxPasses = 30;

    public static readonly TimeSpan DefaultMaxDowntime = TimeSpan.FromMilliseconds(20);

    public static MigrationOptions Default => new(DefaultMaxDowntime);

    /// <summary>A one-line problem, or null when the options are usable.</summary>
    public string? Validate() =>
        MaxDowntime <= TimeSpan.Zero ? $"maximum downtime {MaxDowntime.TotalMilliseconds} ms is not positive"
        : MaxBandwidthBytesPerSecond < 0 ? $"maximum bandwidth {MaxBandwidthBytesPerSecond} B/s is negative"
        : MaxPasses is < 1 or > 1000 ? $"maximum passes {MaxPasses} is outside 1..1000"
        : null;
}
