namespace Actors.Grains;

/// <summary>The stop-and-copy: the last pages, and how long the guest was stopped (pause on the source to start on the target).</summary>
[GenerateSerializer]
[Alias("Actors.MigrationSwitchOverReport")]
public sealed record MigrationSwitchOverReport(
    [property: Id(0)] long PagesSent,
    [property: Id(1)] long BytesSent,
    [property: Id(2)] TimeSpan Downtime);
