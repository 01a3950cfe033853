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
        var first = new ConsoleRecorder();
        var second = new ConsoleRecorder();
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
            foreach (ConsoleRecorder subscriber in new[] { first, second })
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
}
