namespace Actors.Silo.Dashboard;

/// <summary>A live migration's progress as its coordinator last reported it; times in milliseconds.</summary>
internal sealed record MigrationView(
    string Id,
    string Vm,
    string Source,
    string Target,
    string State,
    int Pass,
    long PagesRemaining,
    double BytesPerSecond,
    double DirtyPagesPerSecond,
    long BytesSent,
    long MemoryBytes,
    int ThrottlePercent,
    double ElapsedMilliseconds,
    double? DowntimeMilliseconds,
    string? Reason);
