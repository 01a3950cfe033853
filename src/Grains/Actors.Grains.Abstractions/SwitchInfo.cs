namespace Actors.Grains;

/// <summary>A virtual switch as defined: its name and when it was made.</summary>
[GenerateSerializer]
[Alias("Actors.SwitchInfo")]
public sealed record SwitchInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] DateTimeOffset CreatedAt);
