using Orleans.Runtime;
using Orleans.Streams;
using Xunit;

namespace Actors.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ConsoleTests(ClusterFixture fixture)
{
    [Theory]
    [InlineData("hello", "host-0")]
    [InlineData("cpu-selftest", "host-2")]
    public async Task Two_subscribers_both_receive_all_output_in_order(string guest, string host)
    {
        string vmName = $"console-{guest}";
        IAsyncStream<ConsoleOutput> stream = fixture.Client.GetStreamProvider(ConsoleStreams.Provider)
            .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, vmName));
        var first = new Subscriber();
        var second = new Subscriber();
        StreamSubscriptionHandle<ConsoleOutput> a = await stream.SubscribeAsync(first.OnNextAsync);
        StreamSubscriptionHandle<ConsoleOutput> b = await stream.SubscribeAsync(second.OnNextAsync);
        try
        {
            IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>(vmName);
            string imageId = await ImageUploader.UploadAsync(fixture.Client, Guests.Image(guest));
            await vm.CreateAsync(new VmConfiguration(imageId, 16UL << 20, 1, host, guest));
            await vm.StartAsync();
            VmStatus ended = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State == VmState.Off, $"{guest} to exit", TimeSpan.FromSeconds(60));

            string expected = Guests.ExpectedOutput(guest);
            foreach (Subscriber subscriber in new[] { first, second })
            {
                await Poll.UntilAsync(() => Task.FromResult(subscriber.Text), t => t.Length >= expected.Length, $"{guest} output");
                Assert.Equal(expected, subscriber.Text);
                Assert.Empty(subscriber.Gaps);
            }

            Assert.True(ended.ConsoleBytes >= 0);
        }
        finally
        {
            await a.UnsubscribeAsync();
            await b.UnsubscribeAsync();
        }
    }

    private sealed class Subscriber
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
}
