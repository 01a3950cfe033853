namespace Actors.HwBackend.VmBus;

/// <summary>How VMBus reaches the guest: a channel message into a VP's SynIC message slot for a SINT.</summary>
public interface IVmBusGuest
{
    int ProcessorCount { get; }

    /// <returns>False when the VP's SynIC cannot take it (its message page is off, or too many messages wait).</returns>
    bool PostMessage(uint vp, int sint, ReadOnlySpan<byte> message);
}
