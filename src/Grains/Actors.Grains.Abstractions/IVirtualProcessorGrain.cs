namespace Actors.Grains;

/// <summary>
/// One virtual processor, keyed by <c>"{vm}/{index}"</c> (see <see cref="VirtualProcessorKey"/>), placed on
/// the silo of its partition's hardware: register state, pause and resume, exit counters, instructions retired.
/// </summary>
[Alias("Actors.IVirtualProcessorGrain")]
public interface IVirtualProcessorGrain : IGrainWithStringKey
{
    [Alias("GetStatus")]
    Task<VpStatus> GetStatusAsync(bool includeRegisters);

    [Alias("Pause")]
    Task PauseAsync();

    [Alias("Resume")]
    Task ResumeAsync();

    /// <summary>After a live migration: the activation moves (Orleans grain migration) to the silo of the VM's new host.</summary>
    [Alias("FollowHardware")]
    Task FollowHardwareAsync(string host);
}
