using Orleans.Concurrency;

namespace Actors.Grains.Catalogs;

/// <summary>All VMs with their last known state and host, kept current by the partitions themselves.</summary>
public sealed class VmCatalogGrain(
    [PersistentState("vms", "vmstate")] IPersistentState<VmCatalogRecord> record) : Grain, IVmCatalogGrain
{
    public async Task UpsertAsync(VmStatus status)
    {
        record.State.Vms[status.Name] = status;
        await record.WriteStateAsync();
    }

    public async Task RemoveAsync(string vmName)
    {
        if (record.State.Vms.Remove(vmName))
            await record.WriteStateAsync();
    }

    [ReadOnly]
    public Task<IReadOnlyList<VmStatus>> ListAsync() =>
        Task.FromResult<IReadOnlyList<VmStatus>>(record.State.Vms.Values.OrderBy(v => v.Name, StringComparer.Ordinal).ToList());
}
