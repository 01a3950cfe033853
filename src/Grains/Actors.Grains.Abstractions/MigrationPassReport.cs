namespace Actors.Grains;

/// <summary>
/// What one pre-copy pass sent, and how much the guest dirtied meanwhile; <see cref="SwitchOver"/>
/// when the pass ended in the switch-over.
/// </summary>
/// <param name="PagesSent">Pages sent in the pass, zero pages included.</param>
/// <param name="ZeroPages">Of those, pages that were all zeros and went as their numbers only.</param>
/// <param name="BytesSent">Bytes the pass put on the wire.</param>
/// <param name="Duration">How long the pass took.</param>
/// <param name="PagesDirtied">Pages the guest wrote during the pass, which the next pass sends again.</param>
/// <param name="SwitchOver">The switch-over, when the pass ended in it; null otherwise.</param>
[GenerateSerializer]
[Alias("Actors.MigrationPassReport")]
public sealed record MigrationPassReport(
    [property: Id(0)] long PagesSent,
    [property: Id(1)] long ZeroPages,
    [property: Id(2)] long BytesSent,
    [property: Id(3)] TimeSpan Duration,
    [property: Id(4)] long PagesDirtied,
    [property: Id(5)] MigrationSwitchOverReport? SwitchOver = null);
