using Xunit;

namespace Actors.Grains.Tests;

/// <summary>A host that dies takes its VMs with it; their partitions report that instead of claiming to run.</summary>
public sealed class HostLossTests
{
    [Fact]
    public async Task A_VM_whose_host_dies_is_reported_failed_with_the_reason()
    {
        await using var cluster = await ClusterFixture.DeployAsync(2);

        // Run the VM on host-1, and keep its partition on host-0 so the partition outlives the host.
        var host0 = ClusterFixture.SiloNamed(cluster, "host-0");
        var host1 = ClusterFixture.SiloNamed(cluster, "host-1");
        var image = Guests.Image("compute");
        string imageId = await ImageUploader.UploadAsync(cluster.Client, image);
        IPartitionGrain vm = cluster.Client.GetGrain<IPartitionGrain>("doomed");
        await vm.CreateAsync(new VmConfiguration(imageId, 64UL << 20, 1, "host-1"));
        if (cluster.TryGetGrainContext(vm.GetGrainId(), out var context) && host1.SiloAddress.Equals(context!.Address.SiloAddress))
            await cluster.MigrateAsync(vm, host0.SiloAddress);
        Assert.Equal(VmState.Running, (await vm.StartAsync()).State);

        await cluster.KillSiloAsync(host1);

        VmStatus status = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State == VmState.Failed, "the partition to notice its host is gone", TimeSpan.FromSeconds(90));
        Assert.Contains("host 'host-1' left the cluster", status.FailureReason);
    }
}
