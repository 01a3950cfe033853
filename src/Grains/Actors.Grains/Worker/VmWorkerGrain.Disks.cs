using Actors.Grains.Disks;
using Actors.HwBackend.Storage;
using Actors.HwBackend.Worker;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Worker;

/// <summary>The worker's side of the VM's disks: attached where they are, and drained before the VM moves.</summary>
public sealed partial class VmWorkerGrain
{
    /// <summary>How long a moving VM waits, stopped, for its disks to answer what it asked before it left.</summary>
    private static readonly TimeSpan StorageDrainTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Finds each disk's host and attaches the disk to this VM there; the LUNs its SCSI controller will have.</summary>
    private async Task<IReadOnlyList<IScsiLun>> AttachDisksAsync(VmConfiguration configuration)
    {
        var luns = new List<IScsiLun>();
        foreach (string name in configuration.Disks ?? [])
        {
            DiskInfo disk = await GrainFactory.GetGrain<IDiskCatalogGrain>(0).GetAsync(name)
                ?? throw new HypervisorException($"VM '{VmName}' has disk '{name}', which does not exist");
            IVirtualDiskGrain owner = GrainFactory.GetGrain<IVirtualDiskGrain>(IVirtualDiskGrain.Key(disk.Host, name));
            await owner.AttachAsync(VmName);
            luns.Add(new DiskLun(owner, name, VmName, metrics));
        }
        return luns;
    }

    /// <summary>
    /// With the vCPUs paused, waits for the disks to answer every request in flight, so that the
    /// answers are in the memory that moves; one that does not come in time is the guest's to retry
    /// (Linux times the command out and resets the bus), never an answer lost into a dropped machine.
    /// </summary>
    private async Task DrainStorageAsync(VmWorker worker)
    {
        try
        {
            await worker.DrainStorageAsync().WaitAsync(StorageDrainTimeout);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("VM {Vm} moves with disk requests unanswered after {Timeout}; the guest will retry them", VmName, StorageDrainTimeout);
        }
    }
}
