using Orleans.Concurrency;

namespace Actors.Grains;

/// <summary>Where a virtual switch delivers a port's frames: the worker of the VM that has the port, on whichever host it runs.</summary>
[Alias("Actors.INetworkPortSink")]
public interface INetworkPortSink : IGrain
{
    /// <summary>Gives the VM's adapter <paramref name="nic"/> these frames; ones it has no room for are dropped and counted there.</summary>
    [AlwaysInterleave]
    [Alias("DeliverFrames")]
    Task DeliverFramesAsync(int nic, FrameBatch frames);
}
