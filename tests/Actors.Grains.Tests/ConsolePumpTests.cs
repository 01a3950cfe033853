using System.Text;
using Actors.Grains.Worker;
using Xunit;

namespace Actors.Grains.Tests;

public sealed class ConsolePumpTests
{
    [Fact]
    public async Task Queued_output_is_published_in_order_coalesced_and_complete()
    {
        var pump = new ConsolePump();
        long sequence = 0;
        foreach (string part in new[] { "Hel", "lo, ", "world", "\n" })
        {
            pump.OnOutput(sequence, Encoding.ASCII.GetBytes(part));
            sequence += part.Length;
        }

        pump.Complete();
        var batches = new List<ConsoleOutput>();
        await pump.DrainAsync(b =>
        {
            batches.Add(b);
            return Task.CompletedTask;
        });

        ConsoleOutput only = Assert.Single(batches);
        Assert.Equal(0, only.Sequence);
        Assert.Equal("Hello, world\n", Encoding.ASCII.GetString(only.Data));
    }

    [Fact]
    public async Task Batches_stay_under_the_limit_and_contiguous()
    {
        var pump = new ConsolePump();
        byte[] chunk = new byte[ConsolePump.MaximumBatchBytes / 2 + 1];
        for (int i = 0; i < 4; i++)
            pump.OnOutput((long)i * chunk.Length, chunk);
        pump.Complete();

        var batches = new List<ConsoleOutput>();
        await pump.DrainAsync(b =>
        {
            batches.Add(b);
            return Task.CompletedTask;
        });

        Assert.All(batches, b => Assert.True(b.Data.Length <= ConsolePump.MaximumBatchBytes));
        long next = 0;
        foreach (ConsoleOutput b in batches)
        {
            Assert.Equal(next, b.Sequence);
            next += b.Data.Length;
        }

        Assert.Equal(4L * chunk.Length, next);
    }
}
