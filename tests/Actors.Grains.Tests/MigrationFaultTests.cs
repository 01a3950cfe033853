using Actors.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// A host dying in the middle of a live migration. The partition and the coordinator live on host-0,
/// which survives (on host-3, which dies, in the coordinator test); the VM starts on host-1 and moves to host-2. The copy is held to 16 MiB/s so the
/// first pass lasts about four seconds, long enough to kill a host in it.
/// </summary>
public sealed class MigrationFaultTests
{
    private static readonly MigrationOptions Slow = MigrationOptions.Default with { MaxBandwidthBytesPerSecond = 16L << 20 };

    [Fact]
    public async Task The_target_dying_fails_the_migration_and_the_VM_runs_on_at_the_source()
    {
        await using var cluster = await ClusterFixture.DeployAsync(3);
        IPartitionGrain vm = await StartAsync(cluster, "target-dies");
        MigrationStatus failed = await KillMidCopyAsync(cluster, vm, "host-2");
        Assert.Equal(MigrationState.Failed, failed.State);
        Assert.False(string.IsNullOrEmpty(failed.Reason));
        VmStatus status = await vm.GetStatusAsync();
        Assert.True(status.State is VmState.Running or VmState.Off, $"{status.State}: {status.FailureReason}");
        Assert.Equal("host-1", status.Host);
        // The guest keeps stamping and verifying on the source, and finishes clean when told to.
        await vm.SendConsoleInputAsync("q"u8.ToArray());
        VmStatus ended = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State != VmState.Running, "the guest to finish", TimeSpan.FromMinutes(2));
        Assert.Equal(VmState.Off, ended.State);
        Assert.Equal(Guests.ExpectedStatus("migrate-verify"), ended.ExitStatus);
    }

    [Fact]
    public async Task The_source_dying_before_switch_over_reports_the_VM_lost()
    {
        await using var cluster = await ClusterFixture.DeployAsync(3);
        IPartitionGrain vm = await StartAsync(cluster, "source-dies");
        MigrationStatus failed = await KillMidCopyAsync(cluster, vm, "host-1");
        Assert.Equal(MigrationState.Failed, failed.State);
        VmStatus lost = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State == VmState.Failed, "the VM to be reported lost", TimeSpan.FromSeconds(90));
        Assert.Contains("host 'host-1' left the cluster", lost.FailureReason);
        Assert.DoesNotContain("source-dies", (await cluster.Client.GetGrain<IHwBackendGrain>("host-2").GetInfoAsync()).RunningVms);
    }

    [Fact]
    public async Task The_coordinator_dying_with_its_silo_is_settled_and_the_VM_runs_on_at_the_source()
    {
        // The partition and so the coordinator on host-3, which dies; their records are in Redis.
        using RedisServer redis = await RedisServer.StartAsync();
        await using var cluster = await ClusterFixture.DeployAsync(4, redis: redis.Configuration);
        IPartitionGrain vm = await StartAsync(cluster, "coordinator-dies", partitionHost: "host-3");
        MigrationStatus failed = await KillMidCopyAsync(cluster, vm, "host-3");
        Assert.Equal(MigrationState.Failed, failed.State);
        Assert.Contains("coordinator was lost with its silo", failed.Reason);
        Assert.Contains(failed, await cluster.Client.GetGrain<IMigrationCatalogGrain>(0).ListAsync());
        // The target dropped its half-built copy; the guest stamps on at the source and finishes clean.
        Assert.DoesNotContain("coordinator-dies", (await cluster.Client.GetGrain<IHwBackendGrain>("host-2").GetInfoAsync()).RunningVms);
        VmStatus status = await vm.GetStatusAsync();
        Assert.Equal((VmState.Running, "host-1"), (status.State, status.Host));
        await vm.SendConsoleInputAsync("q"u8.ToArray());
        VmStatus ended = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State != VmState.Running, "the guest to finish", TimeSpan.FromMinutes(2));
        Assert.Equal((VmState.Off, Guests.ExpectedStatus("migrate-verify")), (ended.State, ended.ExitStatus));
    }

    [Fact]
    public async Task A_target_without_the_memory_refuses_before_anything_moves()
    {
        // host-1 offers 48 MiB of guest RAM; the VM needs 64.
        await using var cluster = await ClusterFixture.DeployAsync(2, (host, silo) =>
        {
            if (host == "host-1")
                silo.Services.AddOptions<Actors.Grains.Hosts.HostMemoryOptions>().Configure(o => o.BudgetBytes = 48UL << 20);
        });
        string imageId = await ImageUploader.UploadAsync(cluster.Client, Guests.Image("migrate-verify"));
        IPartitionGrain vm = cluster.Client.GetGrain<IPartitionGrain>("too-big");
        await vm.CreateAsync(new VmConfiguration(imageId, 64UL << 20, 1, "host-0", "migrate-verify", MigrationTests.UntilQuit));
        await vm.StartAsync();

        var refused = await Assert.ThrowsAsync<HypervisorException>(() => vm.MigrateAsync("host-1", MigrationOptions.Default));

        Assert.Equal("host 'host-1' has 48 MiB free; VM 'too-big' needs 64 MiB", refused.Message);
        VmStatus status = await vm.GetStatusAsync();
        Assert.Equal((VmState.Running, "host-0"), (status.State, status.Host));
        Assert.Empty(await cluster.Client.GetGrain<IMigrationCatalogGrain>(0).ListAsync());
        await vm.StopAsync();
    }

    /// <summary>Starts moving <paramref name="vm"/> to host-2, kills <paramref name="host"/> a second into the copy, and waits for the migration to end.</summary>
    private static async Task<MigrationStatus> KillMidCopyAsync(InProcessTestCluster cluster, IPartitionGrain vm, string host)
    {
        string id = await vm.MigrateAsync("host-2", Slow);
        await Task.Delay(1000);
        await cluster.KillSiloAsync(ClusterFixture.SiloNamed(cluster, host));
        return await Poll.UntilAsync(() => cluster.Client.GetGrain<IMigrationGrain>(id).GetStatusAsync(), s => s.Ended, "the migration to fail", TimeSpan.FromSeconds(90));
    }

    /// <summary>Runs migrate-verify (64 MiB, until 'q') on host-1 with its partition on <paramref name="partitionHost"/>.</summary>
    private static async Task<IPartitionGrain> StartAsync(InProcessTestCluster cluster, string name, string partitionHost = "host-0")
    {
        var home = ClusterFixture.SiloNamed(cluster, partitionHost);
        string imageId = await ImageUploader.UploadAsync(cluster.Client, Guests.Image("migrate-verify"));
        IPartitionGrain vm = cluster.Client.GetGrain<IPartitionGrain>(name);
        await vm.CreateAsync(new VmConfiguration(imageId, 64UL << 20, 1, "host-1", "migrate-verify", MigrationTests.UntilQuit));
        if (cluster.TryGetGrainContext(vm.GetGrainId(), out var context) && !home.SiloAddress.Equals(context!.Address.SiloAddress))
            await cluster.MigrateAsync(vm, home.SiloAddress);
        Assert.Equal(VmState.Running, (await vm.StartAsync()).State);
        return vm;
    }
}
