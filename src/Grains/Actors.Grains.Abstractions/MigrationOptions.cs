namespace Actors.Grains;

/// <summary>
/// How a live migration may behave: the pause it may cost the guest, the bandwidth it may use
/// (0 = as fast as the hosts go), and how many pre-copy passes it makes before it stops the guest
/// regardless (a guest that dirties memory faster than it can be sent never converges).
/// </summary>
/// <param name="MaxDowntime">The longest the guest may be stopped at the switch-over; the last pass starts when what is left to send fits it at the rate measured.</param>
/// <param name="MaxBandwidthBytesPerSecond">The most bytes per second the migration may send, or 0 for no limit.</param>
/// <param name="MaxPasses">The most pre-copy passes (1 to 1000); the last one switches over whatever remains.</param>
[GenerateSerializer]
[Alias("Actors.MigrationOptions")]
public sealed record MigrationOptions(
    [property: Id(0)] TimeSpan MaxDowntime,
    [property: Id(1)] long MaxBandwidthBytesPerSecond = 0,
    [property: Id(2)] int MaxPasses = MigrationOptions.DefaultMaxPasses)
{
    /// <summary>The passes a migration makes at most unless told otherwise.</summary>
    public const int DefaultMaxPasses = 30;

    /// <summary>The downtime budget unless told otherwise: 20 ms.</summary>
    public static readonly TimeSpan DefaultMaxDowntime = TimeSpan.FromMilliseconds(20);

    /// <summary>20 ms of downtime, no bandwidth limit, at most 30 passes.</summary>
    public static MigrationOptions Default => new(DefaultMaxDowntime);

    /// <summary>A one-line problem, or null when the options are usable.</summary>
    public string? Validate() =>
        MaxDowntime <= TimeSpan.Zero ? $"maximum downtime {MaxDowntime.TotalMilliseconds} ms is not positive"
        : MaxBandwidthBytesPerSecond < 0 ? $"maximum bandwidth {MaxBandwidthBytesPerSecond} B/s is negative"
        : MaxPasses is < 1 or > 1000 ? $"maximum passes {MaxPasses} is outside 1..1000"
        : null;
}
