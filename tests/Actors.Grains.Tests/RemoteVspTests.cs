using Actors.Tests.Shared;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// A VSP on another host than its VM: a stock Linux on host-1 whose heartbeat channel is served by
/// the heartbeat VSP grain on host-2. Linux's hv_utils binds and answers as it does a local VSP,
/// through the VM's worker (the rings are in its memory) and the channel's grain. The VM then
/// moves to host-0 while its VSP stays on host-2, and the heartbeat carries on there.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RemoteVspTests(ClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Init = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        insmod /hv_vmbus.ko && insmod /hv_utils.ko
        echo "ready"
        while true; do sleep 1; done
        """;

    [Fact]
    public async Task A_heartbeat_served_from_another_host_is_answered_by_stock_Linux_and_stays_there_when_the_VM_moves()
    {
        const string name = "linux-remote-vsp";
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>(name);
        try
        {
            string kernel = await ImageUploader.UploadAsync(fixture.Client, StockLinux.Kernel());
            string initrd = await ImageUploader.UploadAsync(fixture.Client, StockLinux.InitrdWithModules(Init, "hv_vmbus.ko", "hv_utils.ko"));
            var configuration = new VmConfiguration(kernel, 256UL << 20, 1, "host-1", "vmlinuz", InitrdId: initrd, CommandLine: StockLinux.CommandLine, Enlightened: true, VspHost: "host-2");
            await vm.CreateAsync(configuration);
            await vm.StartAsync();

            VmStatus answered = await Poll.UntilAsync(vm.GetStatusAsync, s => Heartbeat(s).Contains("answers", StringComparison.Ordinal) && !Heartbeat(s).Contains("(1 answers", StringComparison.Ordinal),
                "heartbeats answered through the VSP on host-2", TimeSpan.FromMinutes(3));
            output.WriteLine($"heartbeat from host-2 to the VM on host-1: {Heartbeat(answered)}");
            Assert.Matches(@"^ok, \d+\.\d s ago \(\d+ answers, round trip \d+\.\d\d ms\), served on host-2$", Heartbeat(answered));
            Assert.Equal(answered.Heartbeat, Heartbeat(answered));
            Assert.Equal("ready", Service(answered, "shutdown")); // the others stay in the VM's worker

            // The bus grain shows the channel open, its ring, and where each VSP runs.
            VmBusStatus bus = await fixture.Client.GetGrain<IVmBusGrain>(name).GetStatusAsync();
            Assert.Equal(("host-1", "5.0"), (bus.Host, bus.Version));
            VmBusChannelStatus heartbeat = bus.Channels.Single(c => c.Device == "heartbeat");
            Assert.Equal(("open", "host-2 (heartbeat VSP grain)"), (heartbeat.State, heartbeat.ServedBy));
            Assert.True(heartbeat.RingPages >= 2);
            Assert.All(bus.Channels.Where(c => c.Device != "heartbeat"), c => Assert.Equal("host-1 (the VM's worker)", c.ServedBy));
            Assert.Equal(heartbeat, await fixture.Client.GetGrain<IVmBusChannelGrain>(IVmBusChannelGrain.Key(name, heartbeat.Relid)).GetStatusAsync());

            // A packet for an earlier open of the channel is refused, not written into the guest's ring.
            Assert.Equal(0, await fixture.Client.GetGrain<IVmBusChannelGrain>(IVmBusChannelGrain.Key(name, heartbeat.Relid))
                .SendAsync("host-1", new VmBusPackets(-1, [new VmBusPacket(1, new byte[64])])));

            string id = await vm.MigrateAsync("host-0", MigrationOptions.Default);
            MigrationStatus done = await Poll.UntilAsync(() => fixture.Client.GetGrain<IMigrationGrain>(id).GetStatusAsync(), s => s.Ended, $"migration {id}", TimeSpan.FromMinutes(2));
            Assert.True(done.State == MigrationState.Completed, $"{done.State}: {done.Reason}");

            // On host-0 the restored channel opens anew: the VSP on host-2 negotiates again and is answered.
            VmStatus moved = await Poll.UntilAsync(vm.GetStatusAsync, s => s.Host == "host-0" && Heartbeat(s).StartsWith("ok, 0.", StringComparison.Ordinal),
                "heartbeats answered on host-0 through the VSP on host-2", TimeSpan.FromMinutes(1));
            output.WriteLine($"heartbeat from host-2 to the VM on host-0: {Heartbeat(moved)}");
            Assert.EndsWith("served on host-2", Heartbeat(moved), StringComparison.Ordinal);
            Assert.Equal("host-2 (heartbeat VSP grain)", (await fixture.Client.GetGrain<IVmBusGrain>(name).GetStatusAsync()).Channels.Single(c => c.Device == "heartbeat").ServedBy);
        }
        finally
        {
            if ((await vm.GetStatusAsync()).State is VmState.Running or VmState.Paused)
                await vm.StopAsync();
            await vm.DeleteAsync();
        }
    }

    [Fact]
    public async Task A_VSP_host_that_is_not_in_the_cluster_is_refused_when_the_VM_starts()
    {
        const string name = "remote-vsp-nowhere";
        IPartitionGrain vm = fixture.Client.GetGrain<IPartitionGrain>(name);
        string kernel = await ImageUploader.UploadAsync(fixture.Client, StockLinux.Kernel());
        await vm.CreateAsync(new VmConfiguration(kernel, 64UL << 20, 1, null, "vmlinuz", CommandLine: StockLinux.CommandLine, Enlightened: true, VspHost: "host-9"));
        try
        {
            var refused = await Assert.ThrowsAsync<HypervisorException>(vm.StartAsync);
            Assert.Contains("unknown VSP host 'host-9'", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await vm.DeleteAsync();
        }
    }

    private static string Heartbeat(VmStatus status) => Service(status, "heartbeat");

    private static string Service(VmStatus status, string name) =>
        status.IntegrationServices?.FirstOrDefault(l => l.StartsWith(name + ": ", StringComparison.Ordinal))?[(name.Length + 2)..] ?? "-";
}
