using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Actors.Grains.Telemetry;
using Xunit;

namespace Actors.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class TelemetryTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_guest_run_is_counted_on_the_hypervisor_meter_without_vm_tags()
    {
        var totals = new ConcurrentDictionary<string, long>();
        var tagKeys = new ConcurrentBag<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == HypervisorMetrics.MeterName)
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            totals.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
            foreach (KeyValuePair<string, object?> tag in tags)
                tagKeys.Add(tag.Key);
        });
        listener.Start();

        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>("metered");
        string imageId = await ImageUploader.UploadAsync(fixture.Client, Guests.Image("hello"));
        await vm.CreateAsync(new VmConfiguration(imageId, 16UL << 20, 1, "host-1", "hello"));
        await vm.StartAsync();
        await Poll.UntilAsync(vm.GetStatusAsync, s => s.State == VmState.Off, "hello to exit");
        // Instructions and exits are observable counters: they report when the listener asks.
        await Poll.UntilAsync(
            () =>
            {
                listener.RecordObservableInstruments();
                return Task.FromResult(totals.GetValueOrDefault("actors.vcpu.instructions_retired"));
            },
            n => n > 0,
            "instructions counted");

        Assert.True(totals.GetValueOrDefault("actors.console.bytes") >= Guests.ExpectedOutput("hello").Length);
        Assert.True(totals.GetValueOrDefault("actors.vcpu.exits") > 0);
        // Tags name kinds (exit reasons, hypercalls and their statuses, VMBus message types), never a VM.
        Assert.All(tagKeys, key => Assert.Contains(key, new[] { "reason", "call", "status", "type" }));
    }

    [Fact]
    public async Task A_running_VM_is_counted_while_it_runs()
    {
        // Every silo of the test cluster reports on the same meter name: one recording sums them all.
        long sum = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == HypervisorMetrics.MeterName && instrument.Name == "actors.vcpu.instructions_retired")
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => sum += value);
        listener.Start();
        long Observe()
        {
            sum = 0;
            listener.RecordObservableInstruments();
            return sum;
        }

        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>("metered-live");
        string imageId = await ImageUploader.UploadAsync(fixture.Client, Guests.Image("compute"));
        await vm.CreateAsync(new VmConfiguration(imageId, 64UL << 20, 1, "host-2", "compute"));
        long before = Observe();
        await vm.StartAsync();
        await Poll.UntilAsync(() => Task.FromResult(Observe() - before), n => n > 1_000_000, "instructions of the running VM counted");

        Assert.Equal(VmState.Running, (await vm.GetStatusAsync()).State);
        await vm.StopAsync();
    }
}
