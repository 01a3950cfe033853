using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Tests.Devices;

/// <summary>Answers reads with a fixed value and remembers the last access.</summary>
internal sealed class RecordingPortDevice(uint readValue = 0x1234_5678) : IPortDevice
{
    public (ushort Port, int Size)? LastRead { get; private set; }

    public (ushort Port, int Size, uint Value)? LastWrite { get; private set; }

    public uint Read(ushort port, int size)
    {
        LastRead = (port, size);
        return readValue;
    }

    public void Write(ushort port, int size, uint value) => LastWrite = (port, size, value);
}
