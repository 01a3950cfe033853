using Actors.Grains.Partitions;
using Orleans.Concurrency;

namespace Actors.Grains.Disks;

/// <summary>Every virtual disk by name with its host; makes and deletes them through their owners on those hosts.</summary>
public sealed class DiskCatalogGrain(
    [PersistentState("disks", PartitionGrain.StorageName)] IPersistentState<DiskCatalogRecord> record) : Grain, IDiskCatalogGrain
{
    public async Task<DiskInfo> CreateAsync(string name, long sizeBytes, string? host, string? baseImage = null)
    {
        if (!VmConfiguration.IsDiskName(name))
            throw new HypervisorException($"'{name}' is not a disk name (1-64 letters, digits, '-', '_' and '.')");
        if (baseImage is not null)
        {
            ImageInfo image = await GrainFactory.GetGrain<IImageStoreGrain>(baseImage).GetInfoAsync();
            if (!image.Complete)
                throw new HypervisorException($"image '{baseImage}' is not in the image store; upload it first");
            if (sizeBytes != 0 && sizeBytes != image.Length)
                throw new HypervisorException($"a disk made from an image has the image's size ({image.Length} bytes), not {sizeBytes}");
            sizeBytes = image.Length;
        }
        if (sizeBytes is < IDiskCatalogGrain.MinimumSizeBytes or > IDiskCatalogGrain.MaximumSizeBytes || sizeBytes % 512 != 0)
            throw new HypervisorException($"a disk is 1M to 2T in whole 512-byte sectors, not {sizeBytes} bytes{(baseImage is null ? "" : " (its image's size)")}");
        if (record.State.Disks.ContainsKey(name))
            throw new HypervisorException($"disk '{name}' already exists", HypervisorRefusal.AlreadyExists);
        IReadOnlyList<string> hosts = await GrainFactory.GetGrain<IHostCatalogGrain>(0).ListAsync();
        string chosen = host ?? hosts.Order(StringComparer.Ordinal).FirstOrDefault()
            ?? throw new HypervisorException("no hosts have joined the cluster");
        if (!hosts.Contains(chosen))
            throw new HypervisorException($"unknown host '{chosen}'");
        await GrainFactory.GetGrain<IVirtualDiskGrain>(IVirtualDiskGrain.Key(chosen, name)).CreateAsync(sizeBytes, baseImage);
        var disk = new DiskInfo(name, chosen, sizeBytes, DateTimeOffset.UtcNow, baseImage);
        record.State.Disks[name] = disk;
        await record.WriteStateAsync();
        return disk;
    }

    [ReadOnly]
    public Task<DiskInfo?> GetAsync(string name) => Task.FromResult(record.State.Disks.GetValueOrDefault(name));

    [ReadOnly]
    public Task<IReadOnlyList<DiskInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<DiskInfo>>([.. record.State.Disks.Values.OrderBy(d => d.Name, StringComparer.Ordinal)]);

    public async Task DeleteAsync(string name)
    {
        if (!record.State.Disks.TryGetValue(name, out DiskInfo? disk))
            throw new HypervisorException($"no disk '{name}'");
        await GrainFactory.GetGrain<IVirtualDiskGrain>(IVirtualDiskGrain.Key(disk.Host, name)).DeleteAsync();
        record.State.Disks.Remove(name);
        await record.WriteStateAsync();
    }
}
