namespace Actors.HwBackend.Worker;

/// <summary>
/// Receives a VM's console output in batches. Called on a vCPU thread while the UART's lock is
/// held (or on the thread that pauses or stops the VM, which flushes the UART), so the guest waits
/// for it: an implementation must be quick and non-blocking (copy the bytes and post them on),
/// must not call back into the host, and must not throw (a throw ends the run as an internal error).
/// </summary>
public interface IConsoleOutputSink
{
    /// <summary>
    /// <paramref name="sequence"/> is the offset of <c>data[0]</c> in the VM's whole output, so
    /// batches are contiguous: each starts where the previous one ended. The span is valid only
    /// during the call.
    /// </summary>
    void OnOutput(long sequence, ReadOnlySpan<byte> data);
}
