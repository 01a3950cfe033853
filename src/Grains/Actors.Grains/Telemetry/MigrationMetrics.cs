using System.Diagnostics.Metrics;

namespace Actors.Grains.Telemetry;

/// <summary>
/// Live migrations as their coordinators see them, on the meter <see cref="HypervisorMetrics.MeterName"/>: what each
/// one cost the guest (downtime), how long it took and how it ended, and the bytes it sent. The coordinator runs on
/// its partition's silo, so a migration is counted once in the cluster, whichever hosts it moved between; the values
/// are the ones <c>hvctl vm migrations</c> shows.
/// </summary>
public sealed class MigrationMetrics
{
    // Downtime: a budget of a few milliseconds met on an idle host up to a forced switch-over of a busy guest.
    private static readonly double[] DowntimeBuckets = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

    // Duration: one pass of a small VM up to many passes of a large one held to a low bandwidth.
    private static readonly double[] DurationBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

    private readonly Histogram<double> _downtime;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _sent;

    public MigrationMetrics(IMeterFactory meters)
    {
        // The factory hands out one meter per name: these instruments sit beside HypervisorMetrics' own.
        Meter meter = meters.Create(HypervisorMetrics.MeterName);
        _downtime = meter.CreateHistogram("actors.migration.downtime", "s", "Time a migrated guest did not run: from pausing it on the source to its start on the target; completed migrations only",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DowntimeBuckets });
        _duration = meter.CreateHistogram("actors.migration.duration", "s", "Time from a migration's start to its end, by outcome (actors.migration_outcome: completed, failed)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _sent = meter.CreateCounter<long>("actors.migration.io", "By", "Bytes migrations sent from source to target: pages, page numbers and the machine's state");
    }

    /// <summary>One pass (or the switch-over) sent <paramref name="bytes"/>.</summary>
    public void Sent(long bytes) => _sent.Add(bytes);

    /// <summary>A migration completed; <paramref name="downtime"/> is null when it was not measured (its coordinator was lost).</summary>
    public void Completed(TimeSpan duration, TimeSpan? downtime)
    {
        if (downtime is { } stopped)
            _downtime.Record(stopped.TotalSeconds);
        _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("actors.migration_outcome", "completed"));
    }

    public void Failed(TimeSpan duration) =>
        _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("actors.migration_outcome", "failed"));
}
