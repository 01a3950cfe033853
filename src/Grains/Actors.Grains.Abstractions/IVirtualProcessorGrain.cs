namespace Actors.Grains;

/// <summary>
/// One virtual processor, keyed by <c>"{vm}/{index}"</c> (see <see cref="VirtualProcessorKey"/>), placed on
/// the silo of its partition's hardware: register state, pause and resume, exit counters, instructions retired.
/// </summary>
[Alias("Actors.IVirtualProcessorGrain")]
public interface IVirtualProcessorGrain : IGrainWithStringKey
{
    /// <summary>The vCPU's host, whether it is paused, instructions retired and exits by reason; with <paramref name="includeRegisters"/> also its registers.</summary>
    [Alias("GetStatus")]
    Task<VpStatus> GetStatusAsync(bool includeRegisters);

    /// <summary>Pauses this one vCPU; the VM's other vCPUs run on.</summary>
    [Alias("Pause")]
    Task PauseAsync();

    /// <summary>Lets this vCPU run again after <see cref="PauseAsync"/>.</summary>
    [Alias("Resume")]
    Task ResumeAsync();

    /// <summary>After a live migration: the activation moves (Orleans grain migration) to the silo of the VM's new host.</summary>
    [Alias("FollowHardware")]
    Task FollowHardwareAsync(string host);
}
