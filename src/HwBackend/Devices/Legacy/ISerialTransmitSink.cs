namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// Where a UART's transmitted bytes go (a console, a log, a test's buffer). Called on the vCPU
/// thread, or on the thread calling <c>Flush</c>, with the UART's lock held: an implementation
/// must not call back into the UART, and should be quick, because the guest waits meanwhile.
/// </summary>
public interface ISerialTransmitSink
{
    /// <summary>Takes a batch of bytes in transmit order; the span is only valid during the call.</summary>
    void Transmit(ReadOnlySpan<byte> data);
}
