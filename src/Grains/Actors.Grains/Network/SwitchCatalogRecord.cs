namespace Actors.Grains.Network;

/// <summary>The switch catalog's persisted list, by switch name.</summary>
[GenerateSerializer]
[Alias("Actors.SwitchCatalogRecord")]
public sealed class SwitchCatalogRecord
{
    [Id(0)] public Dictionary<string, SwitchInfo> Switches { get; set; } = new(StringComparer.Ordinal);
}
