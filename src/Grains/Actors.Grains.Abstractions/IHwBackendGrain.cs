namespace Actors.Grains;

/// <summary>
/// The hardware of one host, keyed by host name and pinned to the silo that advertises that host. It
/// owns the machines of every partition running there: guest RAM, vCPU threads (dedicated OS threads,
/// never the grain scheduler) and devices.
/// </summary>
[Alias("Actors.IHwBackendGrain")]
public interface IHwBackendGrain : IGrainWithStringKey
{
    [Alias("GetInfo")]
    Task<HostInfo> GetInfoAsync();

    /// <summary>Fetches the image from the store, creates the machine, loads the image and starts the vCPUs.</summary>
    [Alias("StartPartition")]
    Task StartPartitionAsync(string vmName, VmConfiguration configuration);

    /// <summary>Stops the vCPUs and frees the machine; no exit report follows.</summary>
    [Alias("StopPartition")]
    Task StopPartitionAsync(string vmName);

    [Alias("PausePartition")]
    Task PausePartitionAsync(string vmName);

    [Alias("ResumePartition")]
    Task ResumePartitionAsync(string vmName);

    [Alias("PauseProcessor")]
    Task PauseProcessorAsync(string vmName, int index);

    [Alias("ResumeProcessor")]
    Task ResumeProcessorAsync(string vmName, int index);

    [Alias("GetProcessorStatus")]
    Task<VpStatus> GetProcessorStatusAsync(string vmName, int index, bool includeRegisters);

    /// <summary>Instructions retired by all vCPUs and console bytes sent, for the partition's status.</summary>
    [Alias("GetPartitionCounters")]
    Task<(ulong InstructionsRetired, long ConsoleBytes)> GetPartitionCountersAsync(string vmName);

    [Alias("SendConsoleInput")]
    Task SendConsoleInputAsync(string vmName, byte[] data);

    /// <summary>Migration target: reserves memory and an empty machine for <paramref name="vmName"/>, which will arrive page by page.</summary>
    [Alias("PrepareIncoming")]
    Task PrepareIncomingAsync(string vmName, VmConfiguration configuration);

    /// <summary>
    /// Migration target: writes pages into the incoming machine. With <paramref name="handover"/>
    /// this is the last batch (possibly empty): the target also restores the machine state (devices,
    /// vCPUs, clock, console) and starts the vCPUs, in this one call since the guest is stopped
    /// meanwhile. One method for both on purpose: the first call of a grain method in a process costs
    /// 10-20 ms of JIT and type loading, and the switch-over message, sent while the guest is stopped,
    /// then takes the path every pass has already warmed.
    /// </summary>
    [Alias("ReceivePages")]
    Task ReceivePagesAsync(string vmName, PageBatch batch, MachineHandover? handover);

    /// <summary>Migration target: drops an incoming machine that will not be completed.</summary>
    [Alias("AbortIncoming")]
    Task AbortIncomingAsync(string vmName);

    /// <summary>
    /// Migration source: one pre-copy pass to <paramref name="targetHost"/> while the guest runs: all
    /// RAM on pass 1, then the pages dirtied since the previous pass. <paramref name="throttlePercent"/>
    /// (auto-converge) takes that share of the guest's CPU time away for the pass and after. When the
    /// guest dirtied at most <paramref name="switchOverAtPages"/> pages during the pass, the source
    /// switches over in the same call, with no round trip to the coordinator while the guest dirties
    /// more: it stops the vCPUs, sends the last pages and the machine state, the target starts the
    /// guest, and the machine here is freed; the report then carries the switch-over. If the target
    /// fails during it, the guest resumes here and this throws.
    /// </summary>
    [Alias("SendPass")]
    Task<MigrationPassReport> SendPassAsync(string vmName, string targetHost, int pass, long maxBytesPerSecond, int throttlePercent, long switchOverAtPages);

    /// <summary>Migration source: the migration was given up; the guest runs at full speed again.</summary>
    [Alias("CancelOutgoing")]
    Task CancelOutgoingAsync(string vmName);
}
