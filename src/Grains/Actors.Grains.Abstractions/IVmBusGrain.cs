namespace Actors.Grains;

/// <summary>
/// A child partition's VMBus, keyed by VM name and placed next to the VM's hardware. The protocol
/// engine runs in the VM's worker, where the guest's hypercalls arrive; this grain is its address
/// in the cluster, for users and other grains.
/// </summary>
[Alias("Actors.IVmBusGrain")]
public interface IVmBusGrain : IGrainWithStringKey
{
    /// <summary>The bus of the running VM; throws <see cref="HypervisorException"/> when the VM does not run or does not see Hyper-V.</summary>
    [Alias("GetStatus")]
    Task<VmBusStatus> GetStatusAsync();
}
