using Actors.HwBackend.Devices.Legacy;

namespace Actors.HwBackend.Tests.Devices;

/// <summary>Keeps every batch the UART hands over, so tests can check both bytes and batching.</summary>
internal sealed class RecordingSerialSink : ISerialTransmitSink
{
    private readonly List<byte[]> _batches = [];

    public IReadOnlyList<byte[]> Batches => _batches;

    public byte[] Bytes => _batches.SelectMany(b => b).ToArray();

    public void Transmit(ReadOnlySpan<byte> data) => _batches.Add(data.ToArray());
}
