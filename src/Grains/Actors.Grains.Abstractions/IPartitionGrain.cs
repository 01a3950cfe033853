namespace Actors.Grains;

/// <summary>
/// A child partition (VM), keyed by VM name: its configuration, lifecycle and placement. Configuration
/// and lifecycle persist in grain storage. Refusals throw <see cref="HypervisorException"/>.
/// </summary>
[Alias("Actors.IPartitionGrain")]
public interface IPartitionGrain : IGrainWithStringKey
{
    /// <summary>Defines the VM (state Defined). Refused (<see cref="HypervisorRefusal.AlreadyExists"/>) if a VM of that name exists.</summary>
    [Alias("Create")]
    Task<VmStatus> CreateAsync(VmConfiguration configuration);

    /// <summary>Defines the VM, replacing the definition of one that exists if it is Defined, Off or Failed.</summary>
    [Alias("Replace")]
    Task<VmStatus> ReplaceAsync(VmConfiguration configuration);

    /// <summary>Places the VM on a host (its preferred host, else the one with most free memory) and boots it.</summary>
    [Alias("Start")]
    Task<VmStatus> StartAsync();

    /// <summary>Stops the VM's vCPUs and frees its machine (a hard power-off: the guest is not asked); the VM ends Off. Refused unless it is Starting, Running or Paused.</summary>
    [Alias("Stop")]
    Task<VmStatus> StopAsync();

    /// <summary>Pauses every vCPU of the running VM; its memory stays on its host. Refused unless it is Running.</summary>
    [Alias("Pause")]
    Task<VmStatus> PauseAsync();

    /// <summary>Lets the paused VM run on. Refused unless it is Paused.</summary>
    [Alias("Resume")]
    Task<VmStatus> ResumeAsync();

    /// <summary>
    /// Asks the running guest to power off (or, with <see cref="GuestShutdownKind.Restart"/>, to
    /// restart, after which the partition starts the VM again) through its shutdown integration
    /// service. Returns once the guest accepted; the VM is Off (or running again) when the guest
    /// has finished. Refused with the reason when the guest has no such service or does not accept.
    /// </summary>
    [Alias("Shutdown")]
    Task<VmStatus> ShutdownAsync(GuestShutdownKind kind);

    /// <summary>
    /// Gives the running guest a key/value pair through its KVP integration service (Linux's
    /// hv_kvp_daemon keeps it in its external pool). Refused when the VM has no integration
    /// services, the key or value does not fit, or earlier pairs still wait for the guest.
    /// </summary>
    [Alias("SetGuestValue")]
    Task SetGuestValueAsync(string key, string value);

    /// <summary>Removes the VM; refused while it runs.</summary>
    [Alias("Delete")]
    Task DeleteAsync();

    /// <summary>The VM's status; throws <see cref="HypervisorException"/> if no such VM was created.</summary>
    [Alias("GetStatus")]
    Task<VmStatus> GetStatusAsync();

    /// <summary>
    /// Adds a disk to the VM's SCSI controller (at the first free LUN, which it returns): to its
    /// configuration, and while it runs to the guest, which finds it as it would a disk Hyper-V adds.
    /// Refused while the VM starts, stops or migrates, or when another running VM holds the disk.
    /// </summary>
    [Alias("AttachDisk")]
    Task<int> AttachDiskAsync(string disk);

    /// <summary>Takes a disk off the VM's SCSI controller, and while it runs away from the guest; its LUN stays free for the next.</summary>
    [Alias("DetachDisk")]
    Task DetachDiskAsync(string disk);

    /// <summary>Sends bytes to the VM's serial port (its UART receive queue).</summary>
    [Alias("SendConsoleInput")]
    Task SendConsoleInputAsync(byte[] data);

    /// <summary>Called by the VM's hardware backend when the guest stops running (exit, triple fault, failure).</summary>
    [Alias("ReportExit")]
    Task ReportExitAsync(VmExited exit);

    /// <summary>
    /// Starts a live migration of the running VM to <paramref name="targetHost"/> and returns its id
    /// (follow it with <see cref="IMigrationGrain"/>). Refused, with one line, for the VM's own host,
    /// an unknown host, a host without the memory, a VM that is not running, or one already migrating.
    /// </summary>
    [Alias("Migrate")]
    Task<string> MigrateAsync(string targetHost, MigrationOptions options);

    /// <summary>Called by the migration's coordinator when it ends: on success the VM now runs on <paramref name="newHost"/>.</summary>
    [Alias("MigrationEnded")]
    Task MigrationEndedAsync(string migrationId, string? newHost);
}
