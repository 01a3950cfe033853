using Actors.Tests.Shared;
using Orleans.Streams;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// Disks added to and taken from a running VM, as stock Linux's hv_storvsc sees them: the VM starts
/// with an empty SCSI controller; an empty disk attached finds its way to the guest as sda, a disk
/// made over an image as sdb, reading as the image, and the first detached goes away while the
/// second stays. What the guest writes to the second stays in its overlay: the image is unchanged.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LinuxDiskHotPlugTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    // The guest prints its SCSI disks with their sizes (in sectors) and the hash of their first 64 KiB
    // whenever they change, and zeroes that of sdb when the console says so.
    private static readonly string Init = $$"""
        {{StockLinux.StorageInit}}
        seen=none
        while true; do
          now=$(for d in /sys/block/sd*; do [ -e $d/size ] && echo -n "${d##*/}:$(cat $d/size):$(dd if=/dev/${d##*/} bs=65536 count=1 2>/dev/null | sha256sum | cut -c1-16) "; done)
          [ "$now" != "$seen" ] && echo "disks: [$now]" && seen=$now
          if read -t 1 command && [ "$command" = "zero sdb" ]; then
            dd if=/dev/zero of=/dev/sdb bs=65536 count=1 conv=fsync 2>/dev/null && echo "sdb: zeroed"
          fi
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
        byte[] image = new byte[32 << 20];
        new Random(11).NextBytes(image.AsSpan(0, 1 << 20));
        string empty = Hash(new byte[65536]), fromImage = Hash(image.AsSpan(0, 65536).ToArray());
        const long FirstSectors = (16L << 20) / 512, SecondSectors = (32L << 20) / 512;
        try
        {
            await disks.CreateAsync(first, 16L << 20, "host-2");
            string imageId = await ImageUploader.UploadAsync(fixture.Client, image);
            DiskInfo overImage = await disks.CreateAsync(second, 0, "host-1", imageId);
            Assert.Equal((32L << 20, imageId), (overImage.SizeBytes, overImage.BaseImage));
            string kernel = await ImageUploader.UploadAsync(fixture.Client, StockLinux.Kernel());
            string initrd = await ImageUploader.UploadAsync(fixture.Client, StockLinux.InitrdWithModules(Init, StockLinux.StorageModules));
            await vm.CreateAsync(new VmConfiguration(kernel, 256UL << 20, 1, "host-1", "vmlinuz", InitrdId: initrd, CommandLine: StockLinux.CommandLine, Enlightened: true));
            await vm.StartAsync();
            await SeesAsync("[]");

            Assert.Equal(0, await vm.AttachDiskAsync(first));
            await SeesAsync($"[sda:{FirstSectors}:{empty} ]");
            Assert.Equal(1, await vm.AttachDiskAsync(second));
            await SeesAsync($"[sda:{FirstSectors}:{empty} sdb:{SecondSectors}:{fromImage} ]");
            var twice = await Assert.ThrowsAsync<HypervisorException>(() => vm.AttachDiskAsync(second));
            Assert.Contains("already attached", twice.Message, StringComparison.Ordinal);

            await vm.DetachDiskAsync(first);
            await SeesAsync($"[sdb:{SecondSectors}:{fromImage} ]");
            Assert.Equal(["", second], (await vm.GetStatusAsync()).Configuration.Disks!);
            // The detached disk is free: it can be deleted while the VM runs.
            await disks.DeleteAsync(first);

            // The guest's write goes into the disk's overlay; the image in the image store and the host's copy of it stay as they were.
            await vm.SendConsoleInputAsync("zero sdb\n"u8.ToArray());
            await SeesAsync($"[sdb:{SecondSectors}:{empty} ]");
            await vm.StopAsync();
            ScsiCommandOutcome read = await fixture.Client.GetGrain<IVirtualDiskGrain>(IVirtualDiskGrain.Key("host-1", second)).ExecuteAsync(name, [0x28, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0], null, 256 * 512);
            byte[] expected = [.. new byte[65536], .. image.AsSpan(65536, 65536)];
            Assert.Equal(Hash(expected), Hash(read.DataIn!));
            Assert.Equal(Hash(image), Hash(await Images.ImageFetcher.FetchAsync(fixture.Client.GetGrain<IImageStoreGrain>(imageId), imageId)));
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

        static string Hash(byte[] data) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data))[..16];

        Task SeesAsync(string list) => Poll.UntilAsync(() => Task.FromResult(console.Text), t => t.Contains($"disks: {list}\n", StringComparison.Ordinal), $"the guest to see disks {list}", Deadline);
    }
}
