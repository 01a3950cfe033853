namespace Actors.Grains.Partitions;

/// <summary>
/// Disks added to and taken from a VM: its configuration changes, and a running VM's controller
/// with it, as Hyper-V adds and removes a disk on a running VM's SCSI controller.
/// </summary>
public sealed partial class PartitionGrain
{
    public async Task<int> AttachDiskAsync(string disk)
    {
        (VmConfiguration configuration, List<string> disks) = Disks("attach", disk);
        if (disks.Contains(disk))
            throw new HypervisorException($"disk '{disk}' is already attached to VM '{Name}'");
        if (await GrainFactory.GetGrain<IDiskCatalogGrain>(0).GetAsync(disk) is null)
            throw new HypervisorException($"no disk '{disk}': make it with 'hvctl disk create {disk} --size SIZE'");
        // The first LUN a disk was detached from, else the next: a disk keeps its LUN while attached.
        int lun = disks.IndexOf("");
        if (lun < 0)
        {
            lun = disks.Count;
            disks.Add(disk);
        }
        else
            disks[lun] = disk;
        VmConfiguration attached = configuration with { Disks = disks };
        if (attached.Validate() is { } problem)
            throw new HypervisorException($"VM '{Name}': {problem}");
        if (State.State is VmState.Running or VmState.Paused)
            await Worker(State.Host!).AttachDiskAsync(lun, disk);
        State.Configuration = attached;
        await SaveAsync();
        return lun;
    }

    public async Task DetachDiskAsync(string disk)
    {
        (VmConfiguration configuration, List<string> disks) = Disks("detach", disk);
        int lun = disks.IndexOf(disk);
        if (lun < 0)
            throw new HypervisorException($"disk '{disk}' is not attached to VM '{Name}'");
        if (State.State is VmState.Running or VmState.Paused)
            await Worker(State.Host!).DetachDiskAsync(lun, disk);
        disks[lun] = "";
        while (disks.Count > 0 && disks[^1].Length == 0)
            disks.RemoveAt(disks.Count - 1);
        State.Configuration = configuration with { Disks = disks.Count > 0 ? disks : null };
        await SaveAsync();
    }

    /// <summary>The VM's configuration and its disks by LUN, when a disk can be attached or detached now.</summary>
    private (VmConfiguration, List<string>) Disks(string verb, string disk)
    {
        PartitionRecord state = Existing();
        VmConfiguration configuration = state.Configuration!;
        if (!VmConfiguration.IsDiskName(disk))
            throw new HypervisorException($"'{disk}' is not a disk name (1-64 letters, digits, '-', '_' and '.')");
        if (!configuration.Enlightened)
            throw new HypervisorException($"VM '{Name}' has no SCSI controller to {verb} a disk on: only a VM that sees Hyper-V has one (--hyperv)");
        if (state.State is VmState.Starting or VmState.Stopping)
            throw new HypervisorException($"VM '{Name}' is {state.State}; {verb} the disk once it has settled");
        if (state.MigrationId is { } migration)
            throw new HypervisorException($"VM '{Name}' is migrating (migration '{migration}'); {verb} the disk once it has arrived");
        return (configuration, [.. configuration.Disks ?? []]);
    }
}
