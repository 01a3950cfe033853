using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>
/// A live migration as <c>vm migrations -o json</c> prints each: where it goes, how far it is (pass, pages
/// remaining, rates), what it cost. Times are in milliseconds as numbers; <see cref="ElapsedMs"/> of a running
/// migration counts to the moment it was printed.
/// </summary>
internal sealed record MigrationView(
    string Id,
    string Vm,
    string Source,
    string Target,
    MigrationState State,
    int Pass,
    long PagesRemaining,
    double DirtyPagesPerSecond,
    double BytesPerSecond,
    long BytesSent,
    long MemoryBytes,
    int ThrottlePercent,
    DateTime StartedAt,
    DateTime? EndedAt,
    double ElapsedMs,
    double? DowntimeMs,
    string? Reason)
{
    public static MigrationView From(MigrationStatus m) => new(
        m.Id,
        m.Vm,
        m.Source,
        m.Target,
        m.State,
        m.Pass,
        m.PagesRemaining,
        Finite(m.DirtyPagesPerSecond),
        Finite(m.BytesPerSecond),
        m.BytesSent,
        m.MemoryBytes,
        m.ThrottlePercent,
        m.StartedAt.UtcDateTime,
        m.EndedAt?.UtcDateTime,
        m.Elapsed.TotalMilliseconds,
        m.Downtime?.TotalMilliseconds,
        m.Reason);

    // A rate over no time yet is NaN or infinite, which JSON cannot carry: nothing measured reads as 0.
    private static double Finite(double rate) => double.IsFinite(rate) ? rate : 0;
}
