using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Actors.Grains.Telemetry;
using Xunit;
using static Actors.Grains.Tests.EthernetFrames;

namespace Actors.Grains.Tests;

/// <summary>A virtual switch as the VMs' workers use it, with recording sinks standing in for the VMs.</summary>
[Collection(ClusterCollection.Name)]
public sealed class VirtualSwitchTests(ClusterFixture fixture)
{
    private const string MacA = "00:15:5d:00:00:0a";
    private const string MacB = "00:15:5d:00:00:0b";
    private const string MacC = "00:15:5d:00:00:0c";

    // The payload mark of the broadcast that BarrierAsync sends.
    private const byte Barrier = 0xEE;

    private ISwitchCatalogGrain Catalog => fixture.Client.GetGrain<ISwitchCatalogGrain>(0);

    [Fact]
    public async Task A_unicast_frame_reaches_its_destination_port_only()
    {
        (IVirtualSwitchGrain lan, Plugged a, Plugged b, Plugged c) = await ThreePortsAsync("unicast");

        await lan.ForwardAsync(a.Port, Batch(Frame(MacB, MacA, mark: 1)));
        await BarrierAsync(lan, b, a, c);

        // B's adapter is NIC 1 of its VM: the delivery names it.
        Assert.Equal([(1, (byte)1)], await ReceivedAsync(b));
        Assert.Equal([(0, Barrier)], await ReceivedAsync(a));
        Assert.Equal([(0, Barrier)], await ReceivedAsync(c));
    }

    [Fact]
    public async Task Broadcasts_multicasts_and_unknown_destinations_flood_every_port_but_the_sender()
    {
        (IVirtualSwitchGrain lan, Plugged a, Plugged b, Plugged c) = await ThreePortsAsync("flood");

        await lan.ForwardAsync(a.Port, Batch(
            Frame(Broadcast, MacA, mark: 1),
            Frame("01:00:5e:00:00:01", MacA, mark: 2),
            Frame("00:15:5d:99:99:99", MacA, mark: 3)));
        await BarrierAsync(lan, a, b, c);
        await BarrierAsync(lan, b, a);
        await WaitForAsync(b.Sink, 4);
        await WaitForAsync(c.Sink, 5);

        Assert.Equal([1, 2, 3, Barrier], Marks(await ReceivedAsync(b)));
        Assert.Equal([1, 2, 3, Barrier, Barrier], Marks(await ReceivedAsync(c)));
        Assert.Equal([Barrier], Marks(await ReceivedAsync(a)));
        // One batch in, one batch to each port it reached (then the barrier's), whatever the mix of frames.
        Assert.Equal(2, await b.Sink.CountDeliveriesAsync());
    }

    [Fact]
    public async Task The_frames_of_one_batch_reach_each_port_as_one_batch_in_their_order()
    {
        (IVirtualSwitchGrain lan, Plugged a, Plugged b, Plugged c) = await ThreePortsAsync("sorted");

        await lan.ForwardAsync(a.Port, Batch(
            Frame(MacB, MacA, mark: 1),
            Frame(MacC, MacA, mark: 2),
            Frame(Broadcast, MacA, mark: 3),
            Frame(MacB, MacA, mark: 4, length: FrameBatch.MaximumFrameBytes)));
        await WaitForAsync(b.Sink, 3);
        await WaitForAsync(c.Sink, 2);

        Assert.Equal([1, 3, 4], Marks(await ReceivedAsync(b)));
        Assert.Equal([2, 3], Marks(await ReceivedAsync(c)));
        Assert.Equal((1, 1), (await b.Sink.CountDeliveriesAsync(), await c.Sink.CountDeliveriesAsync()));
    }

    [Fact]
    public async Task A_frame_with_another_source_address_is_dropped_and_counted()
    {
        (IVirtualSwitchGrain lan, Plugged a, Plugged b, Plugged c) = await ThreePortsAsync("spoof");

        await lan.ForwardAsync(a.Port, Batch(Frame(MacB, MacC, mark: 1), Frame(MacB, MacA, mark: 2)));
        await BarrierAsync(lan, c, a, b);
        await WaitForAsync(b.Sink, 2);

        Assert.Equal([2, Barrier], Marks(await ReceivedAsync(b)));
        SwitchStatus status = await lan.GetStatusAsync();
        Assert.Equal(1, status.Dropped);
        Assert.Equal((1L, 64L), (PortOf(status, a).FramesIn, PortOf(status, a).BytesIn));
    }

    [Fact]
    public async Task Malformed_batches_and_frames_from_unplugged_ports_are_dropped_and_counted_without_an_exception()
    {
        (IVirtualSwitchGrain lan, Plugged a, Plugged b, Plugged c) = await ThreePortsAsync("malformed");
        byte[] good = Frame(MacB, MacA, mark: 1);

        // Lengths that do not add up to the data, a frame shorter than a header, one longer than the
        // largest, a negative length, and no arrays at all: each batch is dropped whole.
        await lan.ForwardAsync(a.Port, new FrameBatch(good, [60]));
        await lan.ForwardAsync(a.Port, new FrameBatch([.. good, .. good[..10]], [64, 10]));
        await lan.ForwardAsync(a.Port, new FrameBatch(new byte[FrameBatch.MaximumFrameBytes + 1], [FrameBatch.MaximumFrameBytes + 1]));
        await lan.ForwardAsync(a.Port, new FrameBatch(good, [128, -64]));
        await lan.ForwardAsync(a.Port, new FrameBatch(null!, null!));
        await lan.ForwardAsync(new SwitchPort("not-plugged", 0, MacA), Batch(good, good));
        await BarrierAsync(lan, c, a, b);

        Assert.Equal([Barrier], Marks(await ReceivedAsync(b)));
        SwitchStatus status = await lan.GetStatusAsync();
        Assert.Equal(1 + 2 + 1 + 2 + 1 + 2, status.Dropped);
        Assert.Equal(0, PortOf(status, a).FramesIn);
    }

    [Fact]
    public async Task A_port_that_moves_keeps_its_counters_and_a_late_disconnect_from_its_old_sink_leaves_it_plugged_in()
    {
        (IVirtualSwitchGrain lan, Plugged a, Plugged b, Plugged c) = await ThreePortsAsync("move");
        await lan.ForwardAsync(b.Port, Batch(Frame(MacA, MacB, mark: 1)));
        await WaitForAsync(a.Sink, 1);

        // The VM arrives on another host: its worker there plugs the same port in.
        IRecordingPortSink moved = NewSink();
        await lan.ConnectAsync(a.Port, moved);
        await lan.ForwardAsync(b.Port, Batch(Frame(MacA, MacB, mark: 2)));
        await WaitForAsync(moved, 1);
        // The old host's worker unplugs late: the port stays where it went.
        await lan.DisconnectAsync(a.Port, a.Sink);
        await lan.ForwardAsync(b.Port, Batch(Frame(MacA, MacB, mark: 3)));
        await WaitForAsync(moved, 2);

        Assert.Equal([1], Marks(await a.Sink.GetFramesAsync()));
        Assert.Equal([2, 3], Marks(await moved.GetFramesAsync()));
        SwitchStatus status = await Poll.UntilAsync(lan.GetStatusAsync, s => PortOf(s, a).FramesOut == 3, "three frames counted out to the moved port");
        Assert.Equal(3 * 64L, PortOf(status, a).BytesOut);

        // Its new sink unplugs it: frames for its address now flood to the ports that are left.
        await lan.DisconnectAsync(a.Port, moved);
        Assert.Equal([b.Port, c.Port], (await lan.GetStatusAsync()).Ports.Select(p => p.Port));
        await lan.ForwardAsync(b.Port, Batch(Frame(MacA, MacB, mark: 4)));
        await WaitForAsync(c.Sink, 1);
        Assert.Equal([4], Marks(await c.Sink.GetFramesAsync()));
        Assert.Equal([2, 3], Marks(await moved.GetFramesAsync()));
    }

    [Fact]
    public async Task A_flood_at_a_slow_port_drops_there_while_other_ports_still_get_their_frames()
    {
        (IVirtualSwitchGrain lan, Plugged sender, Plugged slow, Plugged other) = await ThreePortsAsync("slow");
        await slow.Sink.HoldAsync();
        const int Batches = 20;

        // The sender never waits for a receiver: all of these return while the slow port holds its deliveries.
        await Task.WhenAll(Enumerable.Range(0, Batches).Select(i => lan.ForwardAsync(sender.Port, Batch(Frame(MacB, MacA, mark: (byte)i)))))
            .WaitAsync(TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(slow.Sink.CountDeliveriesAsync, n => n == 1, "a delivery under way to the slow port");
        await lan.ForwardAsync(sender.Port, Batch(Frame(MacC, MacA, mark: 100)));
        await WaitForAsync(other.Sink, 1);

        // The slow port's queue holds four batches: the one under way and three waiting for it.
        Assert.Equal([100], Marks(await ReceivedAsync(other)));
        SwitchPortStatus held = PortOf(await lan.GetStatusAsync(), slow);
        Assert.Equal((Batches - 4L, 0L), (held.Dropped, held.FramesOut));
        Assert.Equal(1, await slow.Sink.CountDeliveriesAsync());

        // Released, it gets the three that waited in one delivery. Which four got through depends on the
        // order the batches arrived in; each is one of them.
        await slow.Sink.ReleaseAsync();
        await WaitForAsync(slow.Sink, 4);
        Assert.Equal(4, Marks(await ReceivedAsync(slow)).Distinct().Count());
        Assert.Equal(2, await slow.Sink.CountDeliveriesAsync());
        held = PortOf(await Poll.UntilAsync(lan.GetStatusAsync, s => PortOf(s, slow).FramesOut == 4, "the held frames counted out"), slow);
        Assert.Equal(Batches - 4L, held.Dropped);
    }

    [Fact]
    public async Task A_ports_frames_arrive_in_the_order_the_switch_took_them_while_earlier_ones_are_under_way()
    {
        (IVirtualSwitchGrain lan, Plugged a, Plugged b, Plugged _) = await ThreePortsAsync("ordered");
        await b.Sink.HoldAsync();

        // The first batch is under way and held; the next three, each forwarded after the one before,
        // wait for it and then go on together, in order.
        await lan.ForwardAsync(a.Port, Batch(Frame(MacB, MacA, mark: 1)));
        await Poll.UntilAsync(b.Sink.CountDeliveriesAsync, n => n == 1, "the first delivery under way");
        for (byte mark = 2; mark <= 4; mark++)
            await lan.ForwardAsync(a.Port, Batch(Frame(MacB, MacA, mark: mark), Frame(Broadcast, MacA, mark: (byte)(mark + 10))));
        await b.Sink.ReleaseAsync();
        await WaitForAsync(b.Sink, 7);

        Assert.Equal([1, 2, 12, 3, 13, 4, 14], Marks(await ReceivedAsync(b)));
        Assert.Equal(2, await b.Sink.CountDeliveriesAsync());
    }

    [Fact]
    public async Task A_delivery_that_fails_drops_its_frames_on_that_port_only()
    {
        (IVirtualSwitchGrain lan, Plugged a, Plugged gone, Plugged c) = await ThreePortsAsync("failing");
        await gone.Sink.FailAsync();

        await lan.ForwardAsync(a.Port, Batch(Frame(Broadcast, MacA, mark: 1)));
        await WaitForAsync(c.Sink, 1);

        // A port's counts move when its delivery call returns, which is after its sink has the frames.
        SwitchStatus status = await Poll.UntilAsync(
            lan.GetStatusAsync, s => PortOf(s, gone).Dropped == 1 && PortOf(s, c).FramesOut == 1, "both deliveries counted");
        Assert.Equal((0L, 1L, 0L), (PortOf(status, gone).FramesOut, PortOf(status, c).FramesOut, status.Dropped));
    }

    [Fact]
    public async Task Status_counts_frames_and_bytes_each_way_orders_ports_and_names_a_workers_host()
    {
        var measured = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == HypervisorMetrics.MeterName && instrument.Name.StartsWith("actors.switch.", StringComparison.Ordinal))
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measured.AddOrUpdate(string.Join(' ', [instrument.Name, .. tags.ToArray().Select(t => $"{t.Key}={t.Value}")]), value, (_, sum) => sum + value));
        listener.Start();

        IVirtualSwitchGrain lan = await NewSwitchAsync("status");
        string name = (await lan.GetStatusAsync()).Name;
        Plugged b1 = await PlugAsync(lan, "vm-b", MacB, nic: 1);
        Plugged b0 = await PlugAsync(lan, "vm-b", MacC, nic: 0);
        Plugged a = await PlugAsync(lan, "vm-a", MacA);
        // A VM's worker as the sink: the switch reads the host from its key. Nothing is sent to it.
        var worker = new SwitchPort("vm-w", 0, "00:15:5d:00:00:77");
        await lan.ConnectAsync(worker, fixture.Client.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format("host-1", "vm-w")));

        await lan.ForwardAsync(a.Port, Batch(Frame(MacB, MacA, mark: 1, length: 100), Frame(MacB, MacA, mark: 2, length: 200)));
        await lan.ForwardAsync(a.Port, Batch(Frame(MacB, MacC, mark: 3)));
        SwitchStatus status = await Poll.UntilAsync(lan.GetStatusAsync, s => PortOf(s, b1).FramesOut == 2, "two frames counted out to vm-b/nic1");

        Assert.Equal(["vm-a/nic0", "vm-b/nic0", "vm-b/nic1", "vm-w/nic0"], status.Ports.Select(p => p.Port.ToString()));
        Assert.Equal(new SwitchPortStatus(a.Port, null, 2, 300, 0, 0, 0), PortOf(status, a));
        Assert.Equal(new SwitchPortStatus(b1.Port, null, 0, 0, 2, 300, 0), PortOf(status, b1));
        Assert.Equal(new SwitchPortStatus(b0.Port, null, 0, 0, 0, 0, 0), PortOf(status, b0));
        Assert.Equal("host-1", status.Ports.Single(p => p.Port == worker).Host);
        Assert.Equal(1, status.Dropped);

        Assert.Equal(2, measured.GetValueOrDefault($"actors.switch.frames actors.switch={name} actors.switch_port=vm-a/nic0 network.io.direction=receive"));
        Assert.Equal(300, measured.GetValueOrDefault($"actors.switch.io actors.switch={name} actors.switch_port=vm-a/nic0 network.io.direction=receive"));
        Assert.Equal(2, measured.GetValueOrDefault($"actors.switch.frames actors.switch={name} actors.switch_port=vm-b/nic1 network.io.direction=transmit"));
        Assert.Equal(300, measured.GetValueOrDefault($"actors.switch.io actors.switch={name} actors.switch_port=vm-b/nic1 network.io.direction=transmit"));
        Assert.Equal(1, measured.GetValueOrDefault($"actors.switch.dropped actors.switch={name} actors.drop_reason=spoofed"));
        await lan.DisconnectAsync(worker, fixture.Client.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format("host-1", "vm-w")));
    }

    [Fact]
    public async Task Ports_with_bad_or_taken_addresses_are_refused()
    {
        IVirtualSwitchGrain lan = await NewSwitchAsync("addresses");
        Plugged a = await PlugAsync(lan, "vm-a", MacA);

        var taken = await Assert.ThrowsAsync<HypervisorException>(() => lan.ConnectAsync(new SwitchPort("vm-b", 0, MacA), NewSink()));
        Assert.Contains("already the address of port vm-a/nic0", taken.Message);
        foreach (string bad in new[] { "00:15:5d:00:00", "00-15-5d-00-00-0b", "zz:15:5d:00:00:0b", Broadcast, "01:00:5e:00:00:01", "00:00:00:00:00:00" })
            await Assert.ThrowsAsync<HypervisorException>(() => lan.ConnectAsync(new SwitchPort("vm-b", 0, bad), NewSink()));
        await Assert.ThrowsAsync<HypervisorException>(() => lan.ConnectAsync(new SwitchPort("", 0, MacB), NewSink()));
        await Assert.ThrowsAsync<HypervisorException>(() => lan.ConnectAsync(new SwitchPort("vm-b", -1, MacB), NewSink()));

        Assert.Equal([a.Port], (await lan.GetStatusAsync()).Ports.Select(p => p.Port));
        // Upper case is the same address.
        await lan.ConnectAsync(new SwitchPort("vm-b", 0, "00:15:5D:00:00:0B"), NewSink());
    }

    [Fact]
    public async Task Connecting_to_a_switch_the_catalog_does_not_have_is_refused()
    {
        IVirtualSwitchGrain missing = fixture.Client.GetGrain<IVirtualSwitchGrain>($"missing-{Guid.NewGuid():N}");

        var e = await Assert.ThrowsAsync<HypervisorException>(() => missing.ConnectAsync(new SwitchPort("vm-a", 0, MacA), NewSink()));

        Assert.StartsWith("no switch 'missing-", e.Message);
        Assert.Empty((await missing.GetStatusAsync()).Ports);
    }

    [Fact]
    public async Task The_catalog_creates_lists_and_deletes_switches_but_not_one_with_a_port_plugged_in()
    {
        string suffix = Guid.NewGuid().ToString("N")[..8];
        string first = $"cat-a-{suffix}", second = $"cat-b-{suffix}";

        SwitchInfo created = await Catalog.CreateAsync(second);
        await Catalog.CreateAsync(first);
        Assert.Equal(second, created.Name);
        Assert.InRange(created.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        Assert.Equal(created, await Catalog.GetAsync(second));
        Assert.Equal([first, second], (await Catalog.ListAsync()).Select(s => s.Name).Where(n => n.EndsWith(suffix, StringComparison.Ordinal)));

        var duplicate = await Assert.ThrowsAsync<HypervisorException>(() => Catalog.CreateAsync(first));
        Assert.Equal($"switch '{first}' already exists", duplicate.Message);
        foreach (string bad in new[] { "", "has space", ".hidden", "slash/name", new string('x', 65) })
        {
            var refused = await Assert.ThrowsAsync<HypervisorException>(() => Catalog.CreateAsync(bad));
            Assert.Equal($"'{bad}' is not a switch name (1-64 letters, digits, '-', '_' and '.')", refused.Message);
        }

        IVirtualSwitchGrain lan = fixture.Client.GetGrain<IVirtualSwitchGrain>(first);
        Plugged a = await PlugAsync(lan, "vm-a", MacA);
        var inUse = await Assert.ThrowsAsync<HypervisorException>(() => Catalog.DeleteAsync(first));
        Assert.Equal($"switch '{first}' has 1 port (vm-a/nic0) plugged in: stop those VMs first", inUse.Message);

        await lan.DisconnectAsync(a.Port, a.Sink);
        await Catalog.DeleteAsync(first);
        Assert.Null(await Catalog.GetAsync(first));
        var gone = await Assert.ThrowsAsync<HypervisorException>(() => Catalog.DeleteAsync(first));
        Assert.Equal($"no switch '{first}'", gone.Message);
        await Assert.ThrowsAsync<HypervisorException>(() => lan.ConnectAsync(a.Port, a.Sink));
        await Catalog.DeleteAsync(second);
    }

    private sealed record Plugged(SwitchPort Port, IRecordingPortSink Sink);

    private async Task<IVirtualSwitchGrain> NewSwitchAsync(string purpose)
    {
        SwitchInfo created = await Catalog.CreateAsync($"{purpose}-{Guid.NewGuid():N}");
        return fixture.Client.GetGrain<IVirtualSwitchGrain>(created.Name);
    }

    /// <summary>A switch with ports vm-a/nic0 (MacA), vm-b/nic1 (MacB) and vm-c/nic0 (MacC).</summary>
    private async Task<(IVirtualSwitchGrain Lan, Plugged A, Plugged B, Plugged C)> ThreePortsAsync(string purpose)
    {
        IVirtualSwitchGrain lan = await NewSwitchAsync(purpose);
        return (lan, await PlugAsync(lan, "vm-a", MacA), await PlugAsync(lan, "vm-b", MacB, nic: 1), await PlugAsync(lan, "vm-c", MacC));
    }

    private async Task<Plugged> PlugAsync(IVirtualSwitchGrain lan, string vm, string mac, int nic = 0)
    {
        var plugged = new Plugged(new SwitchPort(vm, nic, mac), NewSink());
        // Activated before the switch's first delivery, which then never waits on a placement.
        await plugged.Sink.CountDeliveriesAsync();
        await lan.ConnectAsync(plugged.Port, plugged.Sink);
        return plugged;
    }

    private IRecordingPortSink NewSink() => fixture.Client.GetGrain<IRecordingPortSink>(Guid.NewGuid().ToString("N"));

    /// <summary>
    /// <paramref name="from"/> broadcasts a barrier frame and waits until <paramref name="others"/> have it.
    /// A frame wrongly sent to one of them before it would be there by then: the sinks are active before
    /// the first delivery (PlugAsync), and deliveries from one switch to an active grain arrive in order.
    /// </summary>
    private static async Task BarrierAsync(IVirtualSwitchGrain lan, Plugged from, params Plugged[] others)
    {
        await lan.ForwardAsync(from.Port, Batch(Frame(Broadcast, from.Port.Mac, Barrier)));
        foreach (Plugged other in others)
        {
            try
            {
                await Poll.UntilAsync(() => ReceivedAsync(other), f => f.Any(frame => frame.Mark == Barrier), $"the barrier at {other.Port}");
            }
            catch (TimeoutException timeout)
            {
                SwitchStatus status = await lan.GetStatusAsync();
                string ports = string.Join("; ", status.Ports.Select(p => $"{p.Port}: in {p.FramesIn}, out {p.FramesOut}, dropped {p.Dropped}"));
                throw new TimeoutException($"{timeout.Message}; switch dropped {status.Dropped}; {ports}", timeout);
            }
        }
    }

    private static Task WaitForAsync(IRecordingPortSink sink, int frames) =>
        Poll.UntilAsync(sink.GetFramesAsync, f => f.Count >= frames, $"{frames} frames delivered");

    private static async Task<IReadOnlyList<(int Nic, byte Mark)>> ReceivedAsync(Plugged port) =>
        [.. (await port.Sink.GetFramesAsync()).Select(f => (f.Nic, MarkOf(f.Frame)))];

    private static IReadOnlyList<byte> Marks(IEnumerable<(int Nic, byte Mark)> frames) => [.. frames.Select(f => f.Mark)];

    private static IReadOnlyList<byte> Marks(IEnumerable<(int Nic, byte[] Frame)> frames) => [.. frames.Select(f => MarkOf(f.Frame))];

    private static SwitchPortStatus PortOf(SwitchStatus status, Plugged port) => status.Ports.Single(p => p.Port == port.Port);
}
