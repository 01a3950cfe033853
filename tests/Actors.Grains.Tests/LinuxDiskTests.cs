using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Actors.Tests.Shared;
using Orleans.Streams;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// A VM's disk on another host than the VM, through stock Linux's own hv_storvsc: the disk lives in
/// host-2's disk store, the VM runs on host-1, and its SCSI commands travel between them. Linux
/// writes chunks of a known pattern with fsync while the VM moves to host-0; the disk stays on
/// host-2, and afterwards the guest reads back all it wrote, and host-2's file holds it too.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LinuxDiskTests(ClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Chunks = 40;
    private const int ChunkBytes = 256 * 1024;

    private static readonly string Init = $$"""
        {{StockLinux.StorageInit}}
        i=0
        while [ ! -b /dev/sda ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
        seq 1 100000 | head -c {{ChunkBytes}} > /tmp/chunk
        echo "disk: $(cat /sys/block/sda/size) sectors"
        i=0
        while [ $i -lt {{Chunks}} ]; do
          dd if=/tmp/chunk of=/dev/sda bs=4096 seek=$((i * {{ChunkBytes / 4096}})) conv=fsync 2>/dev/null || echo "write $i failed"
          i=$((i + 1))
          echo "chunk $i"
          usleep 200000 # paced, so that however fast the guest runs the move comes while it writes
        done
        echo 3 > /proc/sys/vm/drop_caches
        written=$(dd if=/dev/sda bs=4096 count={{Chunks * ChunkBytes / 4096}} 2>/dev/null | sha256sum | cut -d' ' -f1)
        expected=$(i=0; while [ $i -lt {{Chunks}} ]; do cat /tmp/chunk; i=$((i + 1)); done | sha256sum | cut -d' ' -f1)
        [ "$written" = "$expected" ] && echo "disk intact" || echo "disk differs: $written, expected $expected"
        while true; do sleep 1; done
        """;

    [Fact]
    public async Task A_disk_on_another_host_serves_stock_Linux_and_stays_put_while_the_VM_moves_mid_write()
    {
        const string name = "linux-disk", disk = "linux-disk-0";
        var console = new ConsoleRecorder();
        StreamSubscriptionHandle<ConsoleOutput> subscription = await fixture.Client.GetStreamProvider(ConsoleStreams.Provider)
            .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, name)).SubscribeAsync(console.OnNextAsync);
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>(name);
        IDiskCatalogGrain disks = fixture.Client.GetGrain<IDiskCatalogGrain>(0);
        var measured = new System.Collections.Concurrent.ConcurrentDictionary<string, double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == Telemetry.HypervisorMetrics.MeterName && instrument.Name.StartsWith("actors.disk.", StringComparison.Ordinal))
                    l.EnableMeasurementEvents(instrument);
            },
        };
        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string key = string.Join(' ', [instrument.Name, .. tags.ToArray().Select(t => t.Value?.ToString())]);
            measured.AddOrUpdate(key, value, (_, sum) => sum + value);
            measured.AddOrUpdate(key + " count", 1, (_, n) => n + 1);
        }
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.Start();
        var spans = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var tracer = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Actors.", StringComparison.Ordinal) || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(tracer);
        try
        {
            DiskInfo created = await disks.CreateAsync(disk, 64L << 20, "host-2");
            Assert.Equal(("host-2", 64L << 20), (created.Host, created.SizeBytes));
            var duplicate = await Assert.ThrowsAsync<HypervisorException>(() => disks.CreateAsync(disk, 1L << 20, null));
            Assert.Contains("already exists", duplicate.Message, StringComparison.Ordinal);

            string kernel = await ImageUploader.UploadAsync(fixture.Client, StockLinux.Kernel());
            string initrd = await ImageUploader.UploadAsync(fixture.Client, StockLinux.InitrdWithModules(Init, StockLinux.StorageModules));
            await vm.CreateAsync(new VmConfiguration(kernel, 256UL << 20, 1, "host-1", "vmlinuz", InitrdId: initrd, CommandLine: StockLinux.CommandLine, Enlightened: true, Disks: [disk]));
            await vm.StartAsync();
            await Poll.UntilAsync(() => Task.FromResult(console.Text), t => t.Contains("chunk 3\n", StringComparison.Ordinal), "the guest writing its disk", TimeSpan.FromMinutes(3));
            Assert.Contains($"disk: {(64L << 20) / 512} sectors", console.Text);
            VmBusStatus bus = await fixture.Client.GetGrain<IVmBusGrain>(name).GetStatusAsync();
            Assert.Contains(bus.Channels, c => (c.Relid, c.Device, c.State) == (5, "scsi", "open"));

            // The disk is in use: no other VM takes it, and it cannot be deleted under the guest.
            await Assert.ThrowsAsync<HypervisorException>(() => disks.DeleteAsync(disk));

            string id = await vm.MigrateAsync("host-0", MigrationOptions.Default);
            MigrationStatus done = await Poll.UntilAsync(() => fixture.Client.GetGrain<IMigrationGrain>(id).GetStatusAsync(), s => s.Ended, $"migration {id}", TimeSpan.FromMinutes(2));
            Assert.True(done.State == MigrationState.Completed, $"{done.State}: {done.Reason}");
            int chunksAtMove = Chunk(console.Text);
            output.WriteLine($"moved to host-0 after chunk {chunksAtMove}, downtime {done.Downtime?.TotalMilliseconds:F1} ms");

            string text = await Poll.UntilAsync(() => Task.FromResult(console.Text), t => t.Contains("disk intact", StringComparison.Ordinal) || t.Contains("disk differs", StringComparison.Ordinal) || t.Contains("failed", StringComparison.Ordinal),
                "the guest's check of its disk", TimeSpan.FromMinutes(4));
            Assert.True(chunksAtMove < Chunks, "the move came after the last write; it proves nothing about writes in flight");
            Assert.Contains("disk intact", text);
            Assert.DoesNotContain("failed", text);
            Assert.Equal("host-0", (await vm.GetStatusAsync()).Host);

            // The disk's load, by disk, as an operator sees it: operations, bytes, and each command's latency.
            Assert.True(measured.GetValueOrDefault($"actors.disk.operations {disk} write") >= Chunks, string.Join(", ", measured));
            Assert.True(measured.GetValueOrDefault($"actors.disk.operations {disk} flush") >= Chunks);
            Assert.True(measured.GetValueOrDefault($"actors.disk.operations {disk} read") > 0);
            Assert.True(measured.GetValueOrDefault($"actors.disk.io {disk} write") >= Chunks * ChunkBytes);
            Assert.True(measured.GetValueOrDefault($"actors.disk.operation.duration {disk} write count") >= Chunks);
            Assert.True(measured.GetValueOrDefault($"actors.disk.operation.duration {disk} flush count") >= Chunks);
            string writes = $"actors.disk.operation.duration {disk} write";
            output.WriteLine($"mean disk write latency {measured[writes] / measured[writes + " count"] * 1000:F2} ms over {measured[writes + " count"]} writes");

            // Each command is one trace: the VSP's span with the request's LBA and length, and the disk
            // owner's span on host-2 below it, joined through the Orleans call.
            Activity write = spans.First(a => a.OperationName == "ScsiCommand" && (string?)a.GetTagItem("actors.disk") == disk && a.GetTagItem("actors.lba") is not null && (byte?)a.GetTagItem("scsi.opcode") == 0x2A);
            Assert.True((uint)write.GetTagItem("actors.blocks")! > 0);
            Assert.Equal($"{name}/5", write.GetTagItem("actors.vmbus_channel")); // the SCSI controller's channel, by its channel grain's key
            Assert.Contains(spans, a => a.OperationName == "DiskStore" && a.TraceId == write.TraceId && (string?)a.GetTagItem("actors.host") == "host-2");

            // host-2's store holds what the guest wrote: read back through the disk's owner, which holds its file open.
            byte[] chunk = Encoding.ASCII.GetBytes(string.Join('\n', Enumerable.Range(1, 100000)) + "\n")[..ChunkBytes];
            await vm.StopAsync();
            IVirtualDiskGrain owner = fixture.Client.GetGrain<IVirtualDiskGrain>(IVirtualDiskGrain.Key("host-2", disk));
            for (int i = 0; i < Chunks; i++)
            {
                uint lba = (uint)(i * ChunkBytes / 512);
                const int Blocks = ChunkBytes / 512;
                byte[] read10 = [0x28, 0, (byte)(lba >> 24), (byte)(lba >> 16), (byte)(lba >> 8), (byte)lba, 0, Blocks >> 8, Blocks & 0xFF, 0];
                ScsiCommandOutcome stored = await owner.ExecuteAsync(name, read10, null, ChunkBytes);
                Assert.Equal((0, ChunkBytes), (stored.Status, stored.Transferred));
                Assert.True(stored.DataIn!.AsSpan().SequenceEqual(chunk), $"chunk {i} differs in the disk's store");
            }
        }
        finally
        {
            await subscription.UnsubscribeAsync();
            if ((await vm.GetStatusAsync()).State is VmState.Running or VmState.Paused)
                await vm.StopAsync();
            await vm.DeleteAsync();
            if (await disks.GetAsync(disk) is not null)
                await disks.DeleteAsync(disk);
        }
    }

    private static int Chunk(string text)
    {
        int at = text.LastIndexOf("chunk ", StringComparison.Ordinal);
        int end = at < 0 ? -1 : text.IndexOf('\n', at);
        return end < 0 ? 0 : int.Parse(text.AsSpan(at + 6, end - at - 6), System.Globalization.CultureInfo.InvariantCulture);
    }
}
