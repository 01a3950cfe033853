using System.Threading.Channels;
using Actors.HwBackend.Worker;

namespace Actors.Grains.Worker;

/// <summary>
/// Carries serial output from the vCPU thread to the grain. The vCPU side only copies and enqueues (it must
/// never wait on a grain); the grain side drains in order and coalesces what has piled up into one batch,
/// so a chatty guest costs one stream message per drain rather than one per byte.
/// </summary>
public sealed class ConsolePump : IConsoleOutputSink
{
    public const int MaximumBatchBytes = 64 * 1024;

    private readonly Channel<ConsoleOutput> _channel =
        Channel.CreateUnbounded<ConsoleOutput>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    public void OnOutput(long sequence, ReadOnlySpan<byte> data) =>
        _channel.Writer.TryWrite(new ConsoleOutput(sequence, data.ToArray()));

    /// <summary>No more output: the drain finishes once what is queued has been published.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>Publishes batches until <see cref="Complete"/>. Run it on the grain's scheduler.</summary>
    public async Task DrainAsync(Func<ConsoleOutput, Task> publish)
    {
        ChannelReader<ConsoleOutput> reader = _channel.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (TryReadBatch(reader, out ConsoleOutput? batch))
                await publish(batch);
        }
    }

    internal static bool TryReadBatch(ChannelReader<ConsoleOutput> reader, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ConsoleOutput? batch)
    {
        if (!reader.TryRead(out ConsoleOutput? first))
        {
            batch = null;
            return false;
        }

        var parts = new List<byte[]> { first.Data };
        int total = first.Data.Length;
        long next = first.Sequence + first.Data.Length;
        while (total < MaximumBatchBytes && reader.TryPeek(out ConsoleOutput? more) && more.Sequence == next
               && total + more.Data.Length <= MaximumBatchBytes)
        {
            reader.TryRead(out _);
            parts.Add(more.Data);
            total += more.Data.Length;
            next += more.Data.Length;
        }

        batch = parts.Count == 1 ? first : new ConsoleOutput(first.Sequence, Concat(parts, total));
        return true;
    }

    private static byte[] Concat(List<byte[]> parts, int total)
    {
        byte[] result = new byte[total];
        int offset = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }

        return result;
    }
}
