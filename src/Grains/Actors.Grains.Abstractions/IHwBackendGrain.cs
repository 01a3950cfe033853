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
}
