using Actors.HwBackend.Worker;

namespace Actors.HwBackend.Tests.Worker;

/// <summary>Keeps every console batch with its sequence number; safe to read from the test thread while vCPUs write.</summary>
internal sealed class RecordingConsole : IConsoleOutputSink
{
    private readonly Lock _lock = new();
    private readonly List<(long Sequence, byte[] Data)> _batches = [];

    public IReadOnlyList<(long Sequence, byte[] Data)> Batches
    {
        get { lock (_lock) return _batches.ToList(); }
    }

    public byte[] Bytes
    {
        get { lock (_lock) return _batches.SelectMany(b => b.Data).ToArray(); }
    }

    public void OnOutput(long sequence, ReadOnlySpan<byte> data)
    {
        lock (_lock)
            _batches.Add((sequence, data.ToArray()));
    }
}
