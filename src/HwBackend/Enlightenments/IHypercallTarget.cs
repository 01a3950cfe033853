namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// Where the partition's messages and events go: HvPostMessage and HvSignalEvent name a
/// connection, and what is connected there (the VMBus, a channel) answers. Called on the vCPU
/// thread with input already checked; returns the TLFS status the guest sees.
/// </summary>
public interface IHypercallTarget
{
    /// <param name="payload">Valid only during the call.</param>
    HvStatus PostMessage(uint connectionId, uint messageType, ReadOnlySpan<byte> payload);

    HvStatus SignalEvent(uint connectionId, ushort flagNumber);
}
