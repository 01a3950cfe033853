namespace Actors.Grains;

/// <summary>The root partition of one host, keyed by host name and pinned like its backend: the host's inventory (and later its VSPs).</summary>
[Alias("Actors.IRootPartitionGrain")]
public interface IRootPartitionGrain : IGrainWithStringKey
{
    /// <summary>The host's inventory: its backend, cores, memory and the VMs on it now.</summary>
    [Alias("GetInfo")]
    Task<HostInfo> GetInfoAsync();
}
