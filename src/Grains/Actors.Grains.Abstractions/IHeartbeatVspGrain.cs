namespace Actors.Grains;

/// <summary>
/// A heartbeat VSP that serves a VM's heartbeat channel from a grain, keyed <c>"{vspHost}/{vm}"</c>
/// and pinned to that host's silo, which need not be the VM's (<see cref="VmConfiguration.VspHost"/>).
/// The VM's worker delivers what the guest does on the channel; the VSP answers in the return value
/// and sends its own requests through the channel's grain.
/// </summary>
[Alias("Actors.IHeartbeatVspGrain")]
public interface IHeartbeatVspGrain : IGrainWithStringKey
{
    /// <summary>Applies what the guest did on the channel of the VM running on <paramref name="vmHost"/>; returns the packets to write back.</summary>
    [Alias("Deliver")]
    Task<VmBusPackets> DeliverAsync(string vmHost, IReadOnlyList<VmBusChannelEvent> events);

    /// <summary>The heartbeat's state in <c>vm show</c>'s words: whether the guest answers, how long ago, and the round trip.</summary>
    [Alias("Describe")]
    Task<string> DescribeAsync();
}
