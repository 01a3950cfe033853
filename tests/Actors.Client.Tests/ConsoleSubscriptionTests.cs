using System.Text;
using Actors.Grains;

namespace Actors.Client.Tests;

public sealed class ConsoleSubscriptionTests
{
    [Fact]
    public async Task Drops_repeats_and_trims_overlaps_by_sequence()
    {
        await using var subscription = new ConsoleSubscription("vm");
        subscription.Accept(Batch(0, "hello "));
        subscription.Accept(Batch(0, "hello "));
        subscription.Accept(Batch(3, "lo world"));
        subscription.Accept(Batch(6, "wor"));
        subscription.Accept(Batch(11, "!"));

        Assert.Equal("hello world!", await ReadAsync(subscription, 3));
        Assert.Equal(12, subscription.EndOffset);
    }

    [Fact]
    public async Task Accepts_a_gap_because_nothing_can_fill_it()
    {
        await using var subscription = new ConsoleSubscription("vm");
        subscription.Accept(Batch(100, "late"));
        subscription.Accept(Batch(200, "later"));

        Assert.Equal("latelater", await ReadAsync(subscription, 2));
    }

    [Fact]
    public async Task Never_passes_markers_on_as_output()
    {
        await using var subscription = new ConsoleSubscription("vm");
        subscription.Accept(new ConsoleOutput(ConsoleSubscription.MarkerSequence, Guid.NewGuid().ToByteArray()));
        subscription.Accept(Batch(0, "x"));

        Assert.Equal("x", await ReadAsync(subscription, 1));
    }

    [Fact]
    public async Task Waiting_for_an_offset_ends_when_the_output_up_to_it_arrived()
    {
        await using var subscription = new ConsoleSubscription("vm");
        Task<bool> waiting = subscription.WaitForOffsetAsync(5, TimeSpan.FromSeconds(30));
        Assert.False(waiting.IsCompleted);

        subscription.Accept(Batch(0, "abc"));
        subscription.Accept(Batch(3, "de"));

        Assert.True(await waiting);
        Assert.False(await subscription.WaitForOffsetAsync(6, TimeSpan.FromMilliseconds(1)));
    }

    private static ConsoleOutput Batch(long sequence, string text) => new(sequence, Encoding.ASCII.GetBytes(text));

    private static async Task<string> ReadAsync(ConsoleSubscription subscription, int batches)
    {
        var text = new StringBuilder();
        await using IAsyncEnumerator<ConsoleOutput> reader = subscription.ReadAllAsync().GetAsyncEnumerator();
        for (int i = 0; i < batches; i++)
        {
            Assert.True(await reader.MoveNextAsync());
            text.Append(Encoding.ASCII.GetString(reader.Current.Data));
        }

        return text.ToString();
    }
}
