using Actors.HwBackend.Devices.Legacy;

namespace Actors.Bench;

/// <summary>Passes the guest's serial output to a stream unchanged, byte for byte.</summary>
internal sealed class StreamSerialSink(Stream output) : ISerialTransmitSink
{
    public void Transmit(ReadOnlySpan<byte> data) => output.Write(data);
}
