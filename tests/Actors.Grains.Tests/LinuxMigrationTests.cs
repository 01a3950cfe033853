using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Actors.Tests.Shared;
using Orleans.Streams;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// A stock Linux, busy in its shell, live-migrated between two hosts of the test cluster: the shell
/// keeps answering, its tick counter neither skips nor repeats, no console byte is lost or doubled,
/// and a file of known content in tmpfs hashes the same after the move. The VM sees Hyper-V and
/// its hv_utils drives the integration services: on the new host the heartbeat is answered, the
/// guest's clock is set again, and it powers off when asked through its shutdown channel.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class LinuxMigrationTests(ClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Init = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t tmpfs tmpfs /tmp
        insmod /hv_vmbus.ko && insmod /hv_utils.ko
        seq 1 200000 | gzip -1 > /tmp/known
        sha256sum /tmp/known > /tmp/known.sha256
        echo "ready"
        i=0
        while true; do
          i=$((i + 1))
          echo "tick $i"
          if read -t 1 line; then break; fi
        done
        sha256sum -c /tmp/known.sha256 && echo "memory intact after $i ticks"
        while true; do sleep 1; done
        """;

    [Fact]
    public async Task A_running_Linux_moves_to_another_host_and_its_shell_and_memory_carry_on()
    {
        const string name = "linux-mig";
        var console = new ConsoleRecorder();
        StreamSubscriptionHandle<ConsoleOutput> subscription = await fixture.Client.GetStreamProvider(ConsoleStreams.Provider)
            .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, name)).SubscribeAsync(console.OnNextAsync);
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>(name);
        try
        {
            string kernel = await ImageUploader.UploadAsync(fixture.Client, StockLinux.Kernel());
            string initrd = await ImageUploader.UploadAsync(fixture.Client, StockLinux.InitrdWithModules(Init, "hv_vmbus.ko", "hv_utils.ko"));
            await vm.CreateAsync(new VmConfiguration(kernel, 256UL << 20, 1, "host-1", "vmlinuz", InitrdId: initrd, CommandLine: StockLinux.CommandLine, Enlightened: true));
            await vm.StartAsync();
            await Poll.UntilAsync(() => Task.FromResult(console.Text), t => t.Contains("tick 3\n", StringComparison.Ordinal), "the shell's loop to tick", TimeSpan.FromMinutes(3));

            string id = await vm.MigrateAsync("host-2", MigrationOptions.Default);
            MigrationStatus done = await Poll.UntilAsync(() => fixture.Client.GetGrain<IMigrationGrain>(id).GetStatusAsync(), s => s.Ended, $"migration {id}", TimeSpan.FromMinutes(2));
            Assert.True(done.State == MigrationState.Completed, $"{done.State}: {done.Reason}");
            Assert.Equal("host-2", (await vm.GetStatusAsync()).Host);
            output.WriteLine($"migration of a running Linux: {done.Pass} passes, {done.BytesSent >> 20} MiB sent, downtime {done.Downtime?.TotalMilliseconds:F1} ms");

            // The shell answers on the new host: it ticks on, then reads our line and checks its file.
            int ticksAtMove = Ticks(console.Text).Last();
            await Poll.UntilAsync(() => Task.FromResult(console.Text), t => Ticks(t).Last() >= ticksAtMove + 2, "ticks on the new host", TimeSpan.FromMinutes(1));
            await vm.SendConsoleInputAsync("q\n"u8.ToArray());
            await Poll.UntilAsync(() => Task.FromResult(console.Text), t => t.Contains("memory intact", StringComparison.Ordinal), "the file's check");

            // The integration services work on the new host: their channels were restored there and
            // renegotiated; the heartbeat is answered, the clock set again, and shutdown is obeyed.
            VmStatus services = await Poll.UntilAsync(
                vm.GetStatusAsync,
                s => Service(s, "heartbeat").StartsWith("ok, ", StringComparison.Ordinal) && Service(s, "time sync").Contains("clock set", StringComparison.Ordinal),
                "the integration services on host-2",
                TimeSpan.FromMinutes(1));
            Assert.Equal("host-2", services.Host);
            Assert.Equal("ready", Service(services, "shutdown"));
            var spans = new ConcurrentQueue<Activity>();
            using (var listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name.StartsWith("Actors.", StringComparison.Ordinal) || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = spans.Enqueue,
            })
            {
                ActivitySource.AddActivityListener(listener);
                using var root = new Activity("test vm shutdown").Start();
                await vm.ShutdownAsync(GuestShutdownKind.PowerOff);
                root.Stop();
                // One trace from the caller through the partition, the shutdown VSP and the VM's channel, which heard the guest accept.
                Activity[] ours = [.. spans.Where(a => a.TraceId == root.TraceId)];
                Assert.Contains(ours, a => a.OperationName == "GuestShutdown");
                Assert.Contains(ours, a => a.OperationName == "ShutdownVsp" && (string?)a.GetTagItem("actors.guest_answer") == "Accepted");
                Assert.Contains(ours, a => a.OperationName == "ShutdownChannel" && (string?)a.GetTagItem("actors.host") == "host-2" && (string?)a.GetTagItem("actors.guest_answer") == "Accepted");
            }
            VmStatus ended = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State != VmState.Running, "the guest to power off", TimeSpan.FromMinutes(1));

            string text = await Poll.UntilAsync(() => Task.FromResult(console.Text), t => t.Contains("Power down", StringComparison.Ordinal), "the last output");
            Assert.True(ended.State == VmState.Off && ended.ExitStatus == 0, $"{ended.State} {ended.EndReason} {ended.FailureReason}");
            Assert.Contains("hv_utils: Shutdown request received - graceful shutdown initiated", text);

            // The hypervisor meter counted the guest's hypercalls and VMBus traffic, by kind only.
            Dictionary<string, long> counted = HypervisorCounts();
            Assert.True(counted.GetValueOrDefault("actors.hypercalls HvPostMessage Success") > 0, string.Join(", ", counted));
            Assert.True(counted.GetValueOrDefault("actors.hypercalls HvSignalEvent Success") > 0, string.Join(", ", counted));
            foreach (string type in new[] { "InitiateContact", "RequestOffers", "GpadlHeader", "OpenChannel" })
                Assert.True(counted.GetValueOrDefault($"actors.vmbus.messages {type}") > 0, type);
            Assert.True(counted.GetValueOrDefault("actors.vmbus.signals") > 0);
            Assert.Empty(console.Gaps);
            int[] ticks = Ticks(text);
            Assert.Equal(Enumerable.Range(1, ticks.Length), ticks);
            Assert.Contains($"memory intact after {ticks.Length} ticks", text);
            Assert.Contains("/tmp/known: OK", text);
        }
        finally
        {
            await subscription.UnsubscribeAsync();
            if ((await vm.GetStatusAsync()).State is VmState.Running or VmState.Paused)
                await vm.StopAsync();
        }
    }

    /// <summary>The hypervisor meter's observable counters now, summed over the silos, keyed "instrument tag-values...".</summary>
    private static Dictionary<string, long> HypervisorCounts()
    {
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == Telemetry.HypervisorMetrics.MeterName)
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string key = string.Join(' ', [instrument.Name, .. tags.ToArray().Select(t => t.Value?.ToString())]);
            totals[key] = totals.GetValueOrDefault(key) + value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return totals;
    }

    /// <summary>What <paramref name="status"/> says of one integration service ("-" when it says nothing).</summary>
    private static string Service(VmStatus status, string name) =>
        status.IntegrationServices?.FirstOrDefault(l => l.StartsWith(name + ": ", StringComparison.Ordinal))?[(name.Length + 2)..] ?? "-";

    private static int[] Ticks(string text) => [.. TickLine().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    [GeneratedRegex(@"^tick (\d+)$", RegexOptions.Multiline)]
    private static partial Regex TickLine();
}
