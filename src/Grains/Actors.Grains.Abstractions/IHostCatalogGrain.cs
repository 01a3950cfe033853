namespace Actors.Grains;

/// <summary>The hosts that have joined the cluster (key 0): each silo registers its host name when it starts.</summary>
[Alias("Actors.IHostCatalogGrain")]
public interface IHostCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Adds <paramref name="host"/> to the list; registering a host that is listed changes nothing.</summary>
    [Alias("Register")]
    Task RegisterAsync(string host);

    /// <summary>Every host that has registered, whether or not its silo is still up.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();
}
