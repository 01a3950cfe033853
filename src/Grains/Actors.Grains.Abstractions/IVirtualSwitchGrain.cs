using Orleans.Concurrency;

namespace Actors.Grains;

/// <summary>
/// A virtual switch (Hyper-V's, in the root partition), keyed by its name: VMs' network adapters are
/// its ports, wherever their VMs run. It learns which port each source MAC address is behind and
/// sends a frame to the port of its destination, or to every other port for a broadcast, a
/// multicast or an address it has not learnt. Frames travel in batches.
/// </summary>
[Alias("Actors.IVirtualSwitchGrain")]
public interface IVirtualSwitchGrain : IGrainWithStringKey
{
    /// <summary>Plugs <paramref name="port"/> in, or moves it: from now on its frames go to <paramref name="sink"/>. Refused for a switch that does not exist.</summary>
    [Alias("Connect")]
    Task ConnectAsync(SwitchPort port, INetworkPortSink sink);

    /// <summary>Unplugs <paramref name="port"/> if it is still delivered to <paramref name="sink"/> (an old host's late call leaves a moved port alone).</summary>
    [Alias("Disconnect")]
    Task DisconnectAsync(SwitchPort port, INetworkPortSink sink);

    /// <summary>Frames a port sent; frames from a port that is not plugged in, or not from its own MAC address, are dropped and counted.</summary>
    [AlwaysInterleave]
    [Alias("Forward")]
    Task ForwardAsync(SwitchPort from, FrameBatch frames);

    /// <summary>The switch's ports and what each has carried, and the frames it dropped before any port.</summary>
    [AlwaysInterleave]
    [Alias("GetStatus")]
    Task<SwitchStatus> GetStatusAsync();

    /// <summary>
    /// The ports plugged in, and the one being plugged in right now: the catalog deletes a switch only
    /// when there are none, so a VM that connects while its switch is deleted is either counted here or refused.
    /// </summary>
    [AlwaysInterleave]
    [Alias("GetPorts")]
    Task<IReadOnlyList<SwitchPort>> GetPortsAsync();
}
