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

        Assert.True(totals.GetValueOrDefault("actors.console.output") >= Guests.ExpectedOutput("hello").Length);
        Assert.True(totals.GetValueOrDefault("actors.vcpu.exits") > 0);
        // Tags name kinds (exit reasons, hypercalls and their statuses, VMBus message types), never a VM.
        Assert.All(tagKeys, key => Assert.Contains(key, new[] { "actors.vcpu_exit_reason", "actors.hypercall", "actors.hypercall_status", "actors.vmbus_message_type" }));
    }

    [Fact]
    public async Task A_migration_records_its_downtime_its_duration_by_outcome_and_the_bytes_it_sent()
    {
        var measured = new ConcurrentQueue<(string Instrument, double Value, string Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == HypervisorMetrics.MeterName && instrument.Name.StartsWith("actors.migration.", StringComparison.Ordinal))
                    l.EnableMeasurementEvents(instrument);
            },
        };
        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            measured.Enqueue((instrument.Name, value, string.Join(',', tags.ToArray().Select(t => $"{t.Key}={t.Value}"))));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.Start();

        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>("metered-move");
        string imageId = await ImageUploader.UploadAsync(fixture.Client, Guests.Image("migrate-verify"));
        await vm.CreateAsync(new VmConfiguration(imageId, 64UL << 20, 1, "host-1", "migrate-verify", MigrationTests.UntilQuit));
        await vm.StartAsync();
        try
        {
            string id = await vm.MigrateAsync("host-2", MigrationOptions.Default);
            MigrationStatus done = await Poll.UntilAsync(() => fixture.Client.GetGrain<IMigrationGrain>(id).GetStatusAsync(), s => s.Ended, $"migration {id}");
            Assert.True(done.State == MigrationState.Completed, $"{done.State}: {done.Reason}");

            // The same numbers hvctl vm migrations shows, in seconds and bytes.
            (string _, double downtime, string downtimeTags) = Assert.Single(measured, m => m.Instrument == "actors.migration.downtime");
            Assert.Equal(done.Downtime!.Value.TotalSeconds, downtime, precision: 9);
            Assert.Equal(string.Empty, downtimeTags);
            (string _, double duration, string durationTags) = Assert.Single(measured, m => m.Instrument == "actors.migration.duration");
            Assert.Equal(done.Elapsed.TotalSeconds, duration, precision: 9);
            Assert.Equal("actors.migration_outcome=completed", durationTags);
            Assert.Equal(done.BytesSent, measured.Where(m => m.Instrument == "actors.migration.io").Sum(m => m.Value));
        }
        finally
        {
            await vm.StopAsync();
        }
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
