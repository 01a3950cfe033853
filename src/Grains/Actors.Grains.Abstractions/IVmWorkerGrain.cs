using Orleans.Concurrency;

namespace Actors.Grains;

/// <summary>
/// The worker of one VM on one host (Hyper-V's VMWP), keyed by <see cref="VmWorkerKey"/> and pinned
/// to that host's silo. It owns the VM's machine there (guest RAM, devices, vCPU threads), its
/// console stream, and its end of a live migration. One grain per VM, so a call for one VM never
/// queues behind another VM's work; during a migration the source and target each have their own.
/// The reads marked <see cref="AlwaysInterleaveAttribute"/> answer even while a migration pass of
/// this same VM awaits its target.
/// </summary>
[Alias("Actors.IVmWorkerGrain")]
public interface IVmWorkerGrain : IGrainWithStringKey, INetworkPortSink
{
    /// <summary>Reserves the memory with the host, fetches the image, creates the machine, loads the image and starts the vCPUs.</summary>
    [Alias("Start")]
    Task StartAsync(VmConfiguration configuration);

    /// <summary>Adds <paramref name="disk"/> to the running VM's SCSI controller at <paramref name="lun"/> (hot add); refused when another running VM holds it.</summary>
    [Alias("AttachDisk")]
    Task AttachDiskAsync(int lun, string disk);

    /// <summary>Takes the disk at <paramref name="lun"/> away from the running VM (hot removal).</summary>
    [Alias("DetachDisk")]
    Task DetachDiskAsync(int lun, string disk);

    /// <summary>Stops the vCPUs and frees the machine; no exit report follows. Does nothing when nothing runs here.</summary>
    [Alias("Stop")]
    Task StopAsync();

    /// <summary>Pauses every vCPU of the VM here.</summary>
    [Alias("Pause")]
    Task PauseAsync();

    /// <summary>Lets every vCPU of the VM here run again.</summary>
    [Alias("Resume")]
    Task ResumeAsync();

    /// <summary>Pauses vCPU <paramref name="index"/> only.</summary>
    [Alias("PauseProcessor")]
    Task PauseProcessorAsync(int index);

    /// <summary>Lets vCPU <paramref name="index"/> run again.</summary>
    [Alias("ResumeProcessor")]
    Task ResumeProcessorAsync(int index);

    /// <summary>vCPU <paramref name="index"/>'s status, with its registers when <paramref name="includeRegisters"/> is true.</summary>
    [Alias("GetProcessorStatus")]
    [AlwaysInterleave]
    Task<VpStatus> GetProcessorStatusAsync(int index, bool includeRegisters);

    /// <summary>Instructions retired by all vCPUs (on every host this VM ran on) and console bytes sent, for the partition's status.</summary>
    [Alias("GetCounters")]
    [AlwaysInterleave]
    Task<VmCounters> GetCountersAsync();

    /// <summary>True while the VM runs (or is paused) here, false while it is only arriving or not here at all.</summary>
    [Alias("IsRunning")]
    [AlwaysInterleave]
    Task<bool> IsRunningAsync();

    /// <summary>Queues <paramref name="data"/> on the guest's UART receive queue.</summary>
    [Alias("SendConsoleInput")]
    Task SendConsoleInputAsync(byte[] data);

    /// <summary>
    /// Asks the guest, through its shutdown integration service, to power off or restart; returns
    /// what it answered, waiting for it up to a few seconds. The guest then shuts down by itself.
    /// </summary>
    [Alias("RequestGuestShutdown")]
    Task<GuestShutdownOutcome> RequestGuestShutdownAsync(GuestShutdownKind kind);

    /// <summary>Queues a key/value pair for the guest's KVP pool; false when too many are waiting for the guest.</summary>
    [Alias("PushGuestValue")]
    Task<bool> PushGuestValueAsync(string key, string value);

    /// <summary>The VM's VMBus: its version and every channel, with where each channel's VSP runs.</summary>
    [Alias("GetVmBusStatus")]
    [AlwaysInterleave]
    Task<VmBusStatus> GetVmBusStatusAsync();

    /// <summary>
    /// Writes a VSP's packets into the ring of relayed channel <paramref name="relid"/> and signals the
    /// guest; returns how many were written (see <see cref="IVmBusChannelGrain.SendAsync"/>). Interleaves:
    /// it only touches the ring, and a VSP's own request may arrive while this worker awaits that VSP.
    /// </summary>
    [Alias("SendChannelPackets")]
    [AlwaysInterleave]
    Task<int> SendChannelPacketsAsync(uint relid, VmBusPackets packets);

    /// <summary>Migration target: reserves memory and an empty machine, which will arrive page by page.</summary>
    [Alias("PrepareIncoming")]
    Task PrepareIncomingAsync(VmConfiguration configuration);

    /// <summary>
    /// Migration target: writes pages into the incoming machine. With <paramref name="handover"/>
    /// this is the last batch (possibly empty): the target also restores the machine's snapshot and
    /// starts the vCPUs, in this one call since the guest is stopped meanwhile. One method for both
    /// on purpose: the first call of a grain method in a process costs 10-20 ms of JIT and type
    /// loading, and the switch-over message, sent while the guest is stopped, then takes the path
    /// every pass has already warmed.
    /// </summary>
    [Alias("ReceivePages")]
    Task ReceivePagesAsync(PageBatch batch, MigrationHandover? handover);

    /// <summary>Migration target: drops an incoming machine that will not be completed.</summary>
    [Alias("AbortIncoming")]
    Task AbortIncomingAsync();

    /// <summary>
    /// Migration source: one pre-copy pass to this VM's worker on <paramref name="targetHost"/> while the
    /// guest runs: all RAM on pass 1, then the pages dirtied since the previous pass.
    /// <paramref name="throttlePercent"/> (auto-converge) takes that share of the guest's CPU time away
    /// for the pass and after. When the guest dirtied at most <paramref name="switchOverAtPages"/> pages
    /// during the pass, the source switches over in the same call, with no round trip to the
    /// coordinator while the guest dirties more: it stops the vCPUs, sends the last pages and the
    /// snapshot, the target starts the guest, and the machine here is freed; the report then carries
    /// the switch-over. If the target fails during it, the guest resumes here and this throws.
    /// </summary>
    [Alias("SendPass")]
    Task<MigrationPassReport> SendPassAsync(string targetHost, int pass, long maxBytesPerSecond, int throttlePercent, long switchOverAtPages);

    /// <summary>Migration source: the migration was given up; the guest runs at full speed again.</summary>
    [Alias("CancelOutgoing")]
    Task CancelOutgoingAsync();
}
