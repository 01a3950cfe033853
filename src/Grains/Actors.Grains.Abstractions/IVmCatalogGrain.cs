namespace Actors.Grains;

/// <summary>The list of all VMs with their state and host (key 0). Partitions keep it current.</summary>
[Alias("Actors.IVmCatalogGrain")]
public interface IVmCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Records a VM's latest status under its name; its partition calls it at each change.</summary>
    [Alias("Upsert")]
    Task UpsertAsync(VmStatus status);

    /// <summary>Forgets a deleted VM; forgetting one that is not listed changes nothing.</summary>
    [Alias("Remove")]
    Task RemoveAsync(string vmName);

    /// <summary>Every VM with the status its partition last recorded.</summary>
    [Alias("List")]
    Task<IReadOnlyList<VmStatus>> ListAsync();
}
