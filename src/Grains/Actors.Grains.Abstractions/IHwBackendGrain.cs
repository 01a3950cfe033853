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

    /// <summary>Migration target: writes pages into the incoming machine.</summary>
    [Alias("ReceivePages")]
    Task ReceivePagesAsync(string vmName, PageBatch batch);

    /// <summary>
    /// Migration target: writes the last pages (<paramref name="finalPages"/>, possibly empty), restores
    /// the machine state (devices, vCPUs, clock, console) and starts the vCPUs; one call, since the
    /// guest is stopped meanwhile. <paramref name="instructionsRetired"/> is the source's count, so the
    /// VM's counter continues.
    /// </summary>
    [Alias("CompleteIncoming")]
    Task CompleteIncomingAsync(string vmName, PageBatch finalPages, byte[] machineState, ulong instructionsRetired);

    /// <summary>Migration target: drops an incoming machine that will not be completed.</summary>
    [Alias("AbortIncoming")]
    Task AbortIncomingAsync(string vmName);

    /// <summary>
    /// Migration source: one pre-copy pass to <paramref name="targetHost"/> while the guest runs: all
    /// RAM on pass 1, then the pages dirtied since the previous pass. <paramref name="throttlePercent"/>
    /// (auto-converge) takes that share of the guest's CPU time away for the pass and after.
    /// </summary>
    [Alias("SendPass")]
    Task<MigrationPassReport> SendPassAsync(string vmName, string targetHost, int pass, long maxBytesPerSecond, int throttlePercent);

    /// <summary>Migration source: the migration was given up; the guest runs at full speed again.</summary>
    [Alias("CancelOutgoing")]
    Task CancelOutgoingAsync(string vmName);

    /// <summary>
    /// Migration source: stops the vCPUs, sends the last dirty pages and the machine state, has the
    /// target start, and frees the machine here. If the target fails, the VM resumes here and this throws.
    /// </summary>
    [Alias("SwitchOver")]
    Task<MigrationSwitchOverReport> SwitchOverAsync(string vmName, string targetHost);
}
