namespace Actors.Hvctl.Output;

/// <summary>A disk on a VM's SCSI controller: its LUN and the disk's name. A LUN a disk was detached from is left out.</summary>
internal sealed record VmDiskView(int Lun, string Name)
{
    public static IReadOnlyList<VmDiskView> AllOf(IReadOnlyList<string>? disks) =>
        [.. (disks ?? []).Select((name, lun) => new VmDiskView(lun, name)).Where(d => d.Name.Length > 0)];
}
