using Xunit;

namespace Actors.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class LifecycleTests(ClusterFixture fixture)
{
    private const ulong Memory = 16UL << 20;

    private async Task<VmConfiguration> ConfigurationAsync(string guest, string? host, int processors = 1) =>
        new(await ImageUploader.UploadAsync(fixture.Client, Guests.Image(guest)), Memory, processors, host, guest);

    [Fact]
    public async Task Create_start_pause_resume_stop_delete_with_refusals_in_between()
    {
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>("life");
        VmConfiguration config = await ConfigurationAsync("compute", "host-1", processors: 2);

        Assert.Equal(VmState.Defined, (await vm.CreateAsync(config)).State);
        Assert.Contains("VM 'life' is Defined; start it first", (await Assert.ThrowsAsync<HypervisorException>(vm.StopAsync)).Message);
        Assert.Contains("only a Running VM can be paused", (await Assert.ThrowsAsync<HypervisorException>(vm.PauseAsync)).Message);

        VmStatus started = await vm.StartAsync();
        Assert.Equal(VmState.Running, started.State);
        Assert.Equal("host-1", started.Host);
        Assert.Contains("life", (await fixture.Client.GetGrain<IHwBackendGrain>("host-1").GetInfoAsync()).RunningVms);
        Assert.Equal("VM 'life' is Running; stop it first", (await Assert.ThrowsAsync<HypervisorException>(vm.StartAsync)).Message);
        Assert.Equal("VM 'life' is Running; stop it first", (await Assert.ThrowsAsync<HypervisorException>(vm.DeleteAsync)).Message);
        Assert.Equal("VM 'life' is Running; stop it first", (await Assert.ThrowsAsync<HypervisorException>(() => vm.ReplaceAsync(config))).Message);
        HypervisorException taken = await Assert.ThrowsAsync<HypervisorException>(() => vm.CreateAsync(config));
        Assert.Equal(("VM 'life' already exists (Running); delete it first or replace it", HypervisorRefusal.AlreadyExists), (taken.Message, taken.Refusal));
        Assert.Contains("only a Paused VM can be resumed", (await Assert.ThrowsAsync<HypervisorException>(vm.ResumeAsync)).Message);

        Assert.Equal(VmState.Paused, (await vm.PauseAsync()).State);
        ulong retired = (await vm.GetStatusAsync()).InstructionsRetired;
        Assert.True(retired > 0);
        Assert.Equal(retired, (await vm.GetStatusAsync()).InstructionsRetired);
        Assert.Equal("VM 'life' is Paused; resume it instead", (await Assert.ThrowsAsync<HypervisorException>(vm.StartAsync)).Message);

        Assert.Equal(VmState.Running, (await vm.ResumeAsync()).State);
        await Poll.UntilAsync(vm.GetStatusAsync, s => s.InstructionsRetired > retired, "instructions after resume");

        VmStatus stopped = await vm.StopAsync();
        Assert.Equal(VmState.Off, stopped.State);
        Assert.Null(stopped.ExitStatus);
        Assert.DoesNotContain("life", (await fixture.Client.GetGrain<IHwBackendGrain>("host-1").GetInfoAsync()).RunningVms);
        Assert.Contains(await fixture.Client.GetGrain<IVmCatalogGrain>(0).ListAsync(), s => s.Name == "life" && s.State == VmState.Off);

        await vm.DeleteAsync();
        Assert.Equal("no VM named 'life'", (await Assert.ThrowsAsync<HypervisorException>(vm.GetStatusAsync)).Message);
        Assert.DoesNotContain(await fixture.Client.GetGrain<IVmCatalogGrain>(0).ListAsync(), s => s.Name == "life");
    }

    [Fact]
    public async Task Virtual_processors_sit_on_their_partitions_hardware_silo()
    {
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>("vps");
        await vm.CreateAsync(await ConfigurationAsync("compute", "host-2", processors: 2));
        await vm.StartAsync();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                IVirtualProcessorGrain vp = fixture.Client.GetGrain<IVirtualProcessorGrain>(VirtualProcessorKey.Format("vps", i));
                VpStatus status = await vp.GetStatusAsync(includeRegisters: i == 0);
                Assert.Equal("host-2", status.Host);
                Assert.Equal(i, status.Index);
                Assert.Equal(fixture.SiloOfHost("host-2"), fixture.SiloOf(vp));
                if (i == 0)
                    Assert.NotNull(status.Registers);

                // A processor activated by a client call (no hint) still lands next to the hardware.
                await fixture.Cluster.DeactivateAsync(vp);
                await vp.PauseAsync();
                Assert.True((await vp.GetStatusAsync(false)).Paused);
                Assert.Equal(fixture.SiloOfHost("host-2"), fixture.SiloOf(vp));
                await vp.ResumeAsync();
            }
        }
        finally
        {
            await vm.StopAsync();
        }
    }

    [Fact]
    public async Task Unknown_vm_and_unknown_host_are_refused_with_their_names()
    {
        IPartitionGrain ghost = fixture.Client.GetGrain<IPartitionGrain>("ghost");
        Assert.Equal("no VM named 'ghost'", (await Assert.ThrowsAsync<HypervisorException>(ghost.StartAsync)).Message);
        Assert.Equal("no VM named 'ghost'", (await Assert.ThrowsAsync<HypervisorException>(ghost.GetStatusAsync)).Message);

        IPartitionGrain lost = fixture.Client.GetGrain<IPartitionGrain>("lost");
        await lost.CreateAsync(await ConfigurationAsync("hello", "atlantis"));
        Assert.Equal("unknown host 'atlantis'", (await Assert.ThrowsAsync<HypervisorException>(lost.StartAsync)).Message);
        Assert.Equal(VmState.Defined, (await lost.GetStatusAsync()).State);
        await lost.DeleteAsync();
    }

    [Fact]
    public async Task Start_without_a_preferred_host_picks_the_roomiest_and_refuses_when_none_fits()
    {
        IPartitionGrain huge = fixture.Client.GetGrain<IPartitionGrain>("huge");
        await huge.CreateAsync(new VmConfiguration((await ConfigurationAsync("hello", null)).ImageId, 16UL << 30, 1, null));
        Assert.Contains("no host has 16384 MiB free", (await Assert.ThrowsAsync<HypervisorException>(huge.StartAsync)).Message);
        await huge.DeleteAsync();

        IPartitionGrain small = fixture.Client.GetGrain<IPartitionGrain>("anywhere");
        await small.CreateAsync(await ConfigurationAsync("hello", null));
        VmStatus status = await small.StartAsync();
        Assert.StartsWith("host-", status.Host);
        await Poll.UntilAsync(small.GetStatusAsync, s => s.State == VmState.Off, "hello to exit");
    }

    [Fact]
    public async Task Invalid_configuration_is_refused()
    {
        var e = await Assert.ThrowsAsync<HypervisorException>(() =>
            fixture.Client.GetGrain<IPartitionGrain>("bad").CreateAsync(new VmConfiguration(new string('d', 64), 12345, 1, null)));

        Assert.Contains("memory must be", e.Message);
    }

    [Fact]
    public async Task Guest_exit_reaches_the_partition_with_its_exit_status()
    {
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>("selftest");
        await vm.CreateAsync(await ConfigurationAsync("cpu-selftest", "host-0"));
        await vm.StartAsync();

        VmStatus ended = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State != VmState.Running, "cpu-selftest to exit", TimeSpan.FromSeconds(60));

        Assert.Equal(VmState.Off, ended.State);
        Assert.Equal(Guests.ExpectedStatus("cpu-selftest"), ended.ExitStatus);
        Assert.Equal(1, ended.ExitStatus);
        Assert.True(ended.InstructionsRetired > 0);
        Assert.Equal(Guests.ExpectedOutput("cpu-selftest").Length, ended.ConsoleBytes);
        Assert.DoesNotContain("selftest", (await fixture.Client.GetGrain<IHwBackendGrain>("host-0").GetInfoAsync()).RunningVms);

        // Off after an exit is a normal state: the VM starts again.
        Assert.Equal(VmState.Running, (await vm.StartAsync()).State);
        await Poll.UntilAsync(vm.GetStatusAsync, s => s.State == VmState.Off, "second run to exit", TimeSpan.FromSeconds(60));
    }
}
