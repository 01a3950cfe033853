namespace Actors.HwBackend.Platform;

/// <summary>
/// A device on the I/O port bus. Calls come from vCPU threads on the exit fast path: they must
/// not allocate or block for long. <c>port</c> is the absolute port the guest used, so one device
/// can serve several ranges; <c>size</c> is 1, 2 or 4 bytes.
/// </summary>
public interface IPortDevice
{
    /// <summary>Returns the value read; only the low <paramref name="size"/> bytes are used.</summary>
    uint Read(ushort port, int size);

    void Write(ushort port, int size, uint value);
}
