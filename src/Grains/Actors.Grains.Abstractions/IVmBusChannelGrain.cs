namespace Actors.Grains;

/// <summary>
/// One offered channel of a VM's VMBus, keyed <c>"{vm}/{relid}"</c> and placed next to the VM's
/// hardware. A VSP in a grain, on any silo, sends to the guest through it: the packets go to the
/// VM's worker on <c>host</c>, which writes them into the channel's ring in guest memory and
/// signals the guest. What the guest sends reaches the VSP from that worker (see
/// <see cref="IHeartbeatVspGrain.DeliverAsync"/>).
/// </summary>
[Alias("Actors.IVmBusChannelGrain")]
public interface IVmBusChannelGrain : IGrainWithStringKey
{
    /// <summary>The channel as it stands on the running VM.</summary>
    [Alias("GetStatus")]
    Task<VmBusChannelStatus> GetStatusAsync();

    /// <summary>
    /// Writes <paramref name="packets"/> into the channel of the VM running on <paramref name="host"/>;
    /// returns how many were written (none when the channel was closed or opened again since their
    /// epoch; the rest when its ring filled). Throws <see cref="HypervisorException"/> when the VM
    /// does not run there any more.
    /// </summary>
    [Alias("Send")]
    Task<int> SendAsync(string host, VmBusPackets packets);

    /// <summary>The key of channel <paramref name="relid"/> of VM <paramref name="vmName"/>: <c>"{vm}/{relid}"</c>.</summary>
    static string Key(string vmName, uint relid) => $"{vmName}/{relid}";
}
