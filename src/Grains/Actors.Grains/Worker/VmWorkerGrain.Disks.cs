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

    /// <summary>Finds each disk's host and attaches the disk to this VM there; the LUNs its SCSI controller will have (null where a disk was detached).</summary>
    private async Task<IReadOnlyList<IScsiLun?>> AttachDisksAsync(VmConfiguration configuration)
    {
        var luns = new List<IScsiLun?>();
        foreach (string name in configuration.Disks ?? [])
            luns.Add(name.Length == 0 ? null : await AttachDiskAsync(name));
        return luns;
    }

    private async Task<IScsiLun> AttachDiskAsync(string name)
    {
        IVirtualDiskGrain owner = await OwnerAsync(name)
            ?? throw new HypervisorException($"VM '{VmName}' has disk '{name}', which does not exist");
        await owner.AttachAsync(VmName);
        return new DiskLun(owner, name, VmName, metrics);
    }

    /// <summary>The owner grain of a disk, on the host the catalog says holds it; null for a disk that does not exist.</summary>
    private async Task<IVirtualDiskGrain?> OwnerAsync(string disk) =>
        await GrainFactory.GetGrain<IDiskCatalogGrain>(0).GetAsync(disk) is { } info
            ? GrainFactory.GetGrain<IVirtualDiskGrain>(IVirtualDiskGrain.Key(info.Host, disk))
            : null;

    /// <summary>Adds a disk to the running VM's controller at <paramref name="lun"/>; the guest is told to scan its bus.</summary>
    public async Task AttachDiskAsync(int lun, string disk)
    {
        Run run = Running();
        IScsiLun attached = await AttachDiskAsync(disk);
        if (!ReferenceEquals(_run, run))
            throw new HypervisorException($"VM '{VmName}' stopped while disk '{disk}' was being attached");
        run.Worker.Storage!.SetLun(lun, attached);
    }

    /// <summary>Takes the disk at <paramref name="lun"/> away from the running VM (the guest is told to scan its bus) and lets its owner go.</summary>
    public async Task DetachDiskAsync(int lun, string disk)
    {
        Running().Worker.Storage!.SetLun(lun, null);
        if (await OwnerAsync(disk) is { } owner)
            await owner.DetachAsync(VmName);
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
