namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// How a VP's SynIC reaches its local APIC: a SINT is a fixed, edge-triggered interrupt at the
/// SINT's vector, and an auto-EOI vector is acknowledged without going in service (the guest
/// writes no EOI for it). Callable from any thread.
/// </summary>
public interface ISintDelivery
{
    void Deliver(byte vector);

    /// <param name="vectors">256 bits, one per vector; the set replaces the previous one.</param>
    void SetAutoEoiVectors(ReadOnlySpan<ulong> vectors);
}
