namespace Actors.HwBackend.Platform;

/// <summary>
/// A device on the MMIO bus. Calls come from vCPU threads on the exit fast path: they must not
/// allocate or block for long. <c>offset</c> is relative to the window the device was registered
/// at; <c>size</c> is 1, 2, 4 or 8 bytes.
/// </summary>
public interface IMmioDevice
{
    /// <summary>Returns the value read; only the low <paramref name="size"/> bytes are used.</summary>
    ulong Read(ulong offset, int size);

    void Write(ulong offset, int size, ulong value);
}
