using Actors.Tests.Shared;
using Orleans.Streams;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// Disks added to and taken from a running VM, as stock Linux's hv_storvsc sees them: the VM starts
/// with an empty SCSI controller; a disk attached finds its way to the guest as sda, a second as sdb,
/// and the first detached goes away while the second stays, each by its own size.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LinuxDiskHotPlugTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    // The guest prints its SCSI disks with their sizes (in sectors) whenever they change.
    private const string Init = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        insmod /hv_vmbus.ko && insmod /scsi_common.ko && insmod /scsi_mod.ko && insmod /scsi_transport_fc.ko && insmod /hv_storvsc.ko && insmod /sd_mod.ko
        seen=none
        while true; do
          now=$(for d in /sys/block/sd*; do [ -e $d/size ] && echo -n "${d##*/}:$(cat $d/size) "; done)
          [ "$now" != "$seen" ] && echo "disks: [$now]" && seen=$now
          sleep 1
        done
        """;

    [Fact]
    public async Task Disks_attached_to_and_detached_from_a_running_VM_come_and_go_in_stock_Linux()
    {
        const string name = "linux-hotplug", first = "hotplug-0", second = "hotplug-1";
        var console = new ConsoleRecorder();
        StreamSubscriptionHandle<ConsoleOutput> subscription = await fixture.Client.GetStreamProvider(ConsoleStreams.Provider)
            .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, name)).SubscribeAsync(console.OnNextAsync);
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>(name);
        IDiskCatalogGrain disks = fixture.Client.GetGrain<IDiskCatalogGrain>(0);
        try
        {
            await disks.CreateAsync(first, 16L << 20, "host-2");
            await disks.CreateAsync(second, 32L << 20, "host-1");
            string kernel = await ImageUploader.UploadAsync(fixture.Client, StockLinux.Kernel());
            string initrd = await ImageUploader.UploadAsync(fixture.Client, StockLinux.InitrdWithModules(Init, "hv_vmbus.ko", "scsi_common.ko", "scsi_mod.ko", "scsi_transport_fc.ko", "hv_storvsc.ko", "sd_mod.ko"));
            await vm.CreateAsync(new VmConfiguration(kernel, 256UL << 20, 1, "host-1", "vmlinuz", InitrdId: initrd, CommandLine: StockLinux.CommandLine, Enlightened: true));
            await vm.StartAsync();
            await SeesAsync("[]");

            Assert.Equal(0, await vm.AttachDiskAsync(first));
            await SeesAsync($"[sda:{(16L << 20) / 512} ]");
            Assert.Equal(1, await vm.AttachDiskAsync(second));
            await SeesAsync($"[sda:{(16L << 20) / 512} sdb:{(32L << 20) / 512} ]");
            var twice = await Assert.ThrowsAsync<HypervisorException>(() => vm.AttachDiskAsync(second));
            Assert.Contains("already attached", twice.Message, StringComparison.Ordinal);

            await vm.DetachDiskAsync(first);
            await SeesAsync($"[sdb:{(32L << 20) / 512} ]");
            Assert.Equal(["", second], (await vm.GetStatusAsync()).Configuration.Disks!);
            // The detached disk is free: it can be deleted while the VM runs.
            await disks.DeleteAsync(first);
        }
        finally
        {
            await subscription.UnsubscribeAsync();
            if ((await vm.GetStatusAsync()).State is VmState.Running or VmState.Paused)
                await vm.StopAsync();
            await vm.DeleteAsync();
            foreach (string disk in new[] { first, second })
            {
                if (await disks.GetAsync(disk) is not null)
                    await disks.DeleteAsync(disk);
            }
        }

        Task SeesAsync(string list) => Poll.UntilAsync(() => Task.FromResult(console.Text), t => t.Contains($"disks: {list}\n", StringComparison.Ordinal), $"the guest to see disks {list}", Deadline);
    }
}
