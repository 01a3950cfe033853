namespace Actors.Grains;

/// <summary>A virtual switch as defined: its name and when it was made.</summary>
/// <param name="Name">The switch's name (1-64 letters, digits, '-', '_' and '.').</param>
/// <param name="CreatedAt">When it was made (UTC).</param>
[GenerateSerializer]
[Alias("Actors.SwitchInfo")]
public sealed record SwitchInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] DateTimeOffset CreatedAt);
