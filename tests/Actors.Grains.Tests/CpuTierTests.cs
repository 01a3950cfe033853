using Xunit;

namespace Actors.Grains.Tests;

/// <summary>A VM chooses the software CPU's translating tier, keeps it when it moves, and a tier that does not exist is refused.</summary>
[Collection(ClusterCollection.Name)]
public sealed class CpuTierTests(ClusterFixture fixture)
{
    private const ulong Memory = 64UL << 20;

    [Fact]
    public async Task A_translated_migrate_verify_guest_moves_mid_run_with_translated_code_on_both_hosts_and_loses_no_page()
    {
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>("tier-mv");
        string image = await ImageUploader.UploadAsync(fixture.Client, Guests.Image("migrate-verify"));
        await vm.CreateAsync(new VmConfiguration(image, Memory, 1, "host-1", "migrate-verify", MigrationTests.UntilQuit, CpuTier: "translator"));
        await vm.StartAsync();

        VmStatus translated = await Poll.UntilAsync(vm.GetStatusAsync, s => s.CpuTier is { } t && t.StartsWith("translator: ", StringComparison.Ordinal) && !t.Contains(" 0 regions translated", StringComparison.Ordinal), "code translated on host-1");
        Assert.Equal("host-1", translated.Host);

        string id = await vm.MigrateAsync("host-2", MigrationOptions.Default);
        MigrationStatus done = await Poll.UntilAsync(() => fixture.Client.GetGrain<IMigrationGrain>(id).GetStatusAsync(), s => s.Ended, $"migration {id}");
        Assert.True(done.State == MigrationState.Completed, $"migration {id}: {done.State} {done.Reason}");

        VmStatus moved = await Poll.UntilAsync(vm.GetStatusAsync, s => s.CpuTier is { } t && t.StartsWith("translator: ", StringComparison.Ordinal) && !t.Contains(" 0 regions translated", StringComparison.Ordinal), "code translated on host-2");
        Assert.Equal("host-2", moved.Host);
        Assert.Equal("translator", moved.Configuration.CpuTier);

        await vm.SendConsoleInputAsync("q"u8.ToArray());
        VmStatus ended = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State != VmState.Running, "migrate-verify to finish", TimeSpan.FromMinutes(3));
        Assert.True(ended.State == VmState.Off, $"{ended.State}: {ended.FailureReason}");
        // Exit status 1 is the guest's own verdict: every page held the stamp of the last pass.
        Assert.Equal(Guests.ExpectedStatus("migrate-verify"), ended.ExitStatus);
        await vm.DeleteAsync();
    }

    [Fact]
    public async Task A_cpu_tier_that_does_not_exist_is_refused()
    {
        var e = await Assert.ThrowsAsync<HypervisorException>(() =>
            fixture.Client.GetGrain<IPartitionGrain>("tier-bad").CreateAsync(new VmConfiguration(new string('d', 64), Memory, 1, null, CpuTier: "jit")));

        Assert.Equal("VM 'tier-bad': CPU tier must be interpreter or translator, not 'jit'", e.Message);
    }
}
