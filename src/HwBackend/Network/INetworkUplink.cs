namespace Actors.HwBackend.Network;

/// <summary>
/// Where a VM's network adapter sends the frames its guest transmits: the adapter's port on its
/// virtual switch. Called on the vCPU thread that signalled, under the adapter's lock, so it copies
/// the frame and returns at once; a frame it has no room for is dropped (and counted) as a full
/// transmit queue would.
/// </summary>
public interface INetworkUplink
{
    void Transmit(ReadOnlySpan<byte> frame);
}
