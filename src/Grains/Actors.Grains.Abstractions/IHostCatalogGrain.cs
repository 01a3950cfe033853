namespace Actors.Grains;

/// <summary>The hosts that have joined the cluster (key 0): each silo registers its host name when it starts.</summary>
[Alias("Actors.IHostCatalogGrain")]
public interface IHostCatalogGrain : IGrainWithIntegerKey
{
    [Alias("Register")]
    Task RegisterAsync(string host);

    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();
}
