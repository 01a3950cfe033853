namespace Actors.Grains;

/// <summary>Every virtual switch by name (key 0). <c>hvctl switch</c> goes through it.</summary>
[Alias("Actors.ISwitchCatalogGrain")]
public interface ISwitchCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Defines a switch; a name in use is refused.</summary>
    [Alias("Create")]
    Task<SwitchInfo> CreateAsync(string name);

    /// <summary>The switch of that name, or null if there is none.</summary>
    [Alias("Get")]
    Task<SwitchInfo?> GetAsync(string name);

    /// <summary>Every switch, in order of name.</summary>
    [Alias("List")]
    Task<IReadOnlyList<SwitchInfo>> ListAsync();

    /// <summary>Deletes a switch; refused while a port is plugged into it.</summary>
    [Alias("Delete")]
    Task DeleteAsync(string name);
}
