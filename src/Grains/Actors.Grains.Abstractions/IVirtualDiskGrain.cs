namespace Actors.Grains;

/// <summary>
/// A virtual disk's owner, keyed <c>"{host}/{disk}"</c> and pinned to that host's silo, where its bytes
/// are (the host's disk store, a file per disk). It carries out the SCSI commands of the VM the
/// disk is attached to, from wherever that VM runs: the storage VSP's protocol runs next to the VM's
/// memory, and the commands come here over Orleans, so a VM moves between hosts while its disk stays.
/// </summary>
[Alias("Actors.IVirtualDiskGrain")]
public interface IVirtualDiskGrain : IGrainWithStringKey
{
    /// <summary>
    /// Makes the disk's store: <paramref name="sizeBytes"/> of zeros, or with <paramref name="baseImage"/>
    /// (an image store id) a copy-on-write disk over that image, which this host keeps a copy of and
    /// never changes (the size is the image's). Refuses a disk that exists.
    /// </summary>
    [Alias("Create")]
    Task CreateAsync(long sizeBytes, string? baseImage = null);

    /// <summary>
    /// Lets <paramref name="vmName"/> use the disk; refused while another VM that runs holds it. The
    /// same VM may attach again (it restarted, or it is arriving on another host), and a VM that no
    /// longer runs holds nothing, so there is no detach to forget when a host dies.
    /// </summary>
    [Alias("Attach")]
    Task AttachAsync(string vmName);

    /// <summary>Lets go of the disk if <paramref name="vmName"/> holds it: it was detached from the running VM, whose late requests are refused from now on.</summary>
    [Alias("Detach")]
    Task DetachAsync(string vmName);

    /// <summary>
    /// Carries out one SCSI command for the VM that holds the disk: <paramref name="cdb"/>, the data a
    /// write brings (<paramref name="dataOut"/>), and for a read the most it may return
    /// (<paramref name="dataInLength"/>). A write reaches the store before the answer; one with FUA, and
    /// SYNCHRONIZE CACHE, reach stable storage.
    /// </summary>
    [Alias("Execute")]
    Task<ScsiCommandOutcome> ExecuteAsync(string vmName, byte[] cdb, byte[]? dataOut, int dataInLength);

    /// <summary>Deletes the disk's store; refused while a running VM holds it.</summary>
    [Alias("Delete")]
    Task DeleteAsync();

    /// <summary>The key of the grain of disk <paramref name="disk"/> on <paramref name="host"/>: <c>"{host}/{disk}"</c>.</summary>
    static string Key(string host, string disk) => VmWorkerKey.Format(host, disk);
}
