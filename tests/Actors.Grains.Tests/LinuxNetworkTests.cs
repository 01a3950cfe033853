using Actors.Tests.Shared;
using Orleans.Streams;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// Two VMs on two hosts on one virtual switch, through stock Linux's own hv_netvsc: the guests ping
/// each other and one sends the other 64 MiB with busybox nc, its hash checked on both sides; then
/// the receiving VM moves to a third host, the switch learns where its port went, and the same
/// runs again.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LinuxNetworkTests(ClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private const int TransferMiB = 64;
    private static readonly TimeSpan RoundDeadline = TimeSpan.FromMinutes(6);

    // Each round: wait for the other side to answer, ping, send the file, then wait for the test's
    // word on the console before the next.
    private static readonly string Sender = StockLinux.NetworkInit("10.0.0.1") + $$"""

        dd if=/dev/urandom of=/tmp/data bs=1048576 count={{TransferMiB}} 2>/dev/null
        echo "payload hash: $(sha256sum /tmp/data | cut -d' ' -f1)"
        round=1
        while true; do
          i=0
          until ping -c 1 -W 2 10.0.0.2 >/dev/null 2>&1 || [ $i -ge 60 ]; do i=$((i+1)); done
          ping -c 3 10.0.0.2 | grep -q " 0% packet loss" && echo "ping $round: answered"
          start=$(cut -d' ' -f1 /proc/uptime)
          nc 10.0.0.2 5000 < /tmp/data && echo "sent $round: from $start to $(cut -d' ' -f1 /proc/uptime)"
          read go
          round=$((round+1))
        done
        """;

    private static readonly string Receiver = StockLinux.NetworkInit("10.0.0.2") + """

        round=1
        while true; do
          nc -l -p 5000 > /tmp/received
          echo "received $round: $(sha256sum /tmp/received | cut -d' ' -f1) $(wc -c < /tmp/received)"
          rm /tmp/received
          ping -c 3 10.0.0.1 | grep -q " 0% packet loss" && echo "ping back $round: answered"
          round=$((round+1))
        done
        """;

    [Fact]
    public async Task Two_stock_Linux_VMs_on_two_hosts_share_a_switch_and_keep_talking_after_one_moves()
    {
        const string switchName = "linux-net", senderName = "net-sender", receiverName = "net-receiver";
        ISwitchCatalogGrain switches = fixture.Client.GetGrain<ISwitchCatalogGrain>(0);
        IPartitionGrain sender = fixture.Client.GetGrain<IPartitionGrain>(senderName), receiver = fixture.Client.GetGrain<IPartitionGrain>(receiverName);
        var senderConsole = new ConsoleRecorder();
        var receiverConsole = new ConsoleRecorder();
        var subscriptions = new List<StreamSubscriptionHandle<ConsoleOutput>>();
        foreach ((string name, ConsoleRecorder recorder) in new[] { (senderName, senderConsole), (receiverName, receiverConsole) })
        {
            subscriptions.Add(await fixture.Client.GetStreamProvider(ConsoleStreams.Provider)
                .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, name)).SubscribeAsync(recorder.OnNextAsync));
        }
        try
        {
            await switches.CreateAsync(switchName);
            string kernel = await ImageUploader.UploadAsync(fixture.Client, StockLinux.Kernel());
            string senderInitrd = await ImageUploader.UploadAsync(fixture.Client, StockLinux.InitrdWithModules(Sender, StockLinux.NetworkModules));
            string receiverInitrd = await ImageUploader.UploadAsync(fixture.Client, StockLinux.InitrdWithModules(Receiver, StockLinux.NetworkModules));
            NetworkAdapterConfiguration[] nic = [new(switchName)];
            await sender.CreateAsync(new VmConfiguration(kernel, 384UL << 20, 1, "host-1", "vmlinuz", InitrdId: senderInitrd, CommandLine: StockLinux.CommandLine, Enlightened: true, Nics: nic));
            await receiver.CreateAsync(new VmConfiguration(kernel, 384UL << 20, 1, "host-2", "vmlinuz", InitrdId: receiverInitrd, CommandLine: StockLinux.CommandLine, Enlightened: true, Nics: nic));
            await receiver.StartAsync();
            await sender.StartAsync();

            string data = await Poll.UntilAsync(() => Task.FromResult(senderConsole.Text), t => t.Contains("payload hash: ", StringComparison.Ordinal) && t.IndexOf('\n', t.IndexOf("payload hash: ", StringComparison.Ordinal)) > 0, "the sender's data", RoundDeadline);
            string hash = Line(data, "payload hash: ");
            output.WriteLine(string.Join('\n', data.Split('\n').Where(l => !l.StartsWith('['))));
            Assert.Contains($"eth0: up {nic[0].AddressOf(senderName, 0)}", senderConsole.Text);
            await RoundAsync(1);
            SwitchStatus before = await fixture.Client.GetGrain<IVirtualSwitchGrain>(switchName).GetStatusAsync();
            Assert.Equal([("host-1", senderName), ("host-2", receiverName)], before.Ports.Select(p => (p.Host, p.Port.Vm)).OrderBy(p => p.Vm == receiverName));
            SwitchPortStatus receiverPort = before.Ports.Single(p => p.Port.Vm == receiverName);
            Assert.True(receiverPort.BytesOut > TransferMiB << 20, $"the receiver's port carried {receiverPort.BytesOut} bytes out");
            // vm show's line for the adapter: set up by the guest, plugged in, and nothing refused.
            string adapter = (await receiver.GetStatusAsync()).IntegrationServices!.Single(l => l.StartsWith("nic0: ", StringComparison.Ordinal));
            Assert.Matches(@"^nic0: ready, link up, \d+ frames sent, \d+ received, \d+ dropped, 0 malformed$", adapter);

            string id = await receiver.MigrateAsync("host-0", MigrationOptions.Default);
            MigrationStatus moved = await Poll.UntilAsync(() => fixture.Client.GetGrain<IMigrationGrain>(id).GetStatusAsync(), s => s.Ended, $"migration {id}", TimeSpan.FromMinutes(3));
            Assert.True(moved.State == MigrationState.Completed, $"{moved.State}: {moved.Reason}");
            await sender.SendConsoleInputAsync("go\n"u8.ToArray());
            await RoundAsync(2);
            SwitchStatus after = await fixture.Client.GetGrain<IVirtualSwitchGrain>(switchName).GetStatusAsync();
            Assert.Equal("host-0", after.Ports.Single(p => p.Port.Vm == receiverName).Host);

            async Task RoundAsync(int round)
            {
                string received = await Poll.UntilAsync(() => Task.FromResult(receiverConsole.Text), t => t.Contains($"ping back {round}: answered", StringComparison.Ordinal) || t.Contains($"received {round + 1}", StringComparison.Ordinal),
                    $"round {round} of the transfer", RoundDeadline);
                Assert.Contains($"received {round}: {hash} {TransferMiB << 20}\n", received);
                Assert.Contains($"ping back {round}: answered", received);
                string sent = await Poll.UntilAsync(() => Task.FromResult(senderConsole.Text), t => t.Contains($"sent {round}: ", StringComparison.Ordinal) && t.IndexOf('\n', t.IndexOf($"sent {round}: ", StringComparison.Ordinal)) > 0, $"the sender's end of round {round}", TimeSpan.FromMinutes(1));
                Assert.Contains($"ping {round}: answered", sent);
                output.WriteLine(Line(sent, $"sent {round}: "));
            }
        }
        finally
        {
            foreach (StreamSubscriptionHandle<ConsoleOutput> subscription in subscriptions)
                await subscription.UnsubscribeAsync();
            foreach (IPartitionGrain vm in new[] { sender, receiver })
            {
                if ((await vm.GetStatusAsync()).State is VmState.Running or VmState.Paused)
                    await vm.StopAsync();
                await vm.DeleteAsync();
            }
            if (await switches.GetAsync(switchName) is not null)
                await switches.DeleteAsync(switchName);
        }
    }

    private static string Line(string text, string prefix)
    {
        int at = text.IndexOf(prefix, StringComparison.Ordinal);
        int end = text.IndexOf('\n', at);
        return text[(at + prefix.Length)..end].Trim();
    }
}
