namespace Actors.Grains;

/// <summary>The list of all VMs with their state and host (key 0). Partitions keep it current.</summary>
[Alias("Actors.IVmCatalogGrain")]
public interface IVmCatalogGrain : IGrainWithIntegerKey
{
    [Alias("Upsert")]
    Task UpsertAsync(VmStatus status);

    [Alias("Remove")]
    Task RemoveAsync(string vmName);

    [Alias("List")]
    Task<IReadOnlyList<VmStatus>> ListAsync();
}
