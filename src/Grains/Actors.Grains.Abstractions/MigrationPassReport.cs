namespace Actors.Grains;

/// <summary>
/// What one pre-copy pass sent, and how much the guest dirtied meanwhile; <see cref="SwitchOver"/>
/// when the pass ended in the switch-over.
/// </summary>
[GenerateSerializer]
[Alias("Actors.MigrationPassReport")]
public sealed record MigrationPassReport(
    [property: Id(0)] long PagesSent,
    [property: Id(1)] long ZeroPages,
    [property: Id(2)] long BytesSent,
    [property: Id(3)] TimeSpan Duration,
    [property: Id(4)] long PagesDirtied,
    [property: Id(5)] MigrationSwitchOverReport? SwitchOver = null);
