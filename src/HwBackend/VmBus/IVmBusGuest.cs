namespace Actors.HwBackend.VmBus;

/// <summary>How VMBus reaches the guest: channel messages into a VP's SynIC message slot for a SINT, and channel events in its event flags.</summary>
public interface IVmBusGuest
{
    int ProcessorCount { get; }

    /// <returns>False when the VP's SynIC cannot take it (its message page is off, or too many messages wait).</returns>
    bool PostMessage(uint vp, int sint, ReadOnlySpan<byte> message);

    /// <summary>Sets event flag <paramref name="relid"/> of <paramref name="sint"/> on <paramref name="vp"/>, raising the SINT if the flag was clear.</summary>
    void SignalChannel(uint vp, int sint, uint relid);
}
