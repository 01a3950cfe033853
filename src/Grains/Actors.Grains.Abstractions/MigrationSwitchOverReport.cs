namespace Actors.Grains;

/// <summary>The stop-and-copy: the last pages, and how long the guest was stopped (pause on the source to start on the target).</summary>
/// <param name="PagesSent">Pages sent while the guest was stopped.</param>
/// <param name="BytesSent">Bytes sent while the guest was stopped, the snapshot included.</param>
/// <param name="Downtime">From the guest's stop on the source to its start on the target.</param>
[GenerateSerializer]
[Alias("Actors.MigrationSwitchOverReport")]
public sealed record MigrationSwitchOverReport(
    [property: Id(0)] long PagesSent,
    [property: Id(1)] long BytesSent,
    [property: Id(2)] TimeSpan Downtime);
