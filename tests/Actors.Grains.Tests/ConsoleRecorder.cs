using Orleans.Streams;

namespace Actors.Grains.Tests;

/// <summary>Collects a VM's console stream and notes every gap or repeat in its sequence numbers.</summary>
internal sealed class ConsoleRecorder
{
    private readonly List<byte> _bytes = [];
    private long _next;

    public List<string> Gaps { get; } = [];

    public string Text
    {
        get
        {
            lock (_bytes)
                return Guests.Decode(_bytes);
        }
    }

    public Task OnNextAsync(ConsoleOutput batch, StreamSequenceToken? token)
    {
        lock (_bytes)
        {
            if (batch.Sequence != _next)
                Gaps.Add($"expected sequence {_next}, got {batch.Sequence}");
            _bytes.AddRange(batch.Data);
            _next = batch.Sequence + batch.Data.Length;
        }

        return Task.CompletedTask;
    }
}
