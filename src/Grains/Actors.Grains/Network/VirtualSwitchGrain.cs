using Actors.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Network;

/// <summary>
/// A virtual switch, keyed by its name, on whichever silo Orleans placed it: the way into a
/// <see cref="VirtualSwitch"/> for the workers of the VMs whose adapters are its ports. The port table is
/// soft state. A VM's worker plugs its adapters in when the VM starts on a host or arrives there, and
/// connects them again from time to time, so a switch that lost its table (its silo died) has its ports
/// back within one such round; meanwhile the frames of a port it does not know are dropped and counted.
/// While a port is plugged in, idle collection leaves the activation alone, so a quiet network keeps
/// its table.
/// </summary>
public sealed class VirtualSwitchGrain(HypervisorMetrics metrics, ILogger<VirtualSwitchGrain> logger) : Grain, IVirtualSwitchGrain
{
    private VirtualSwitch _switch = null!;

    // Filled and emptied within one ForwardAsync turn, so one list serves every batch.
    private readonly List<FrameDelivery> _deliveries = [];

    // The port a ConnectAsync is plugging in while it asks the catalog; the catalog must see it.
    private SwitchPort? _connecting;

    private GrainType? _workerType;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _switch = new VirtualSwitch(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_switch.Count > 0)
            logger.LogWarning("Switch {Switch} forgets {Ports} ports ({Reason}); their VMs' workers plug them in again", _switch.Name, _switch.Count, reason);
        return Task.CompletedTask;
    }

    public async Task ConnectAsync(SwitchPort port, INetworkPortSink sink)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(sink);
        // A switch with a port plugged in cannot have been deleted (the catalog refuses that), so only
        // the first port asks whether it exists.
        if (_switch.Count == 0)
        {
            _connecting = port;
            try
            {
                if (await GrainFactory.GetGrain<ISwitchCatalogGrain>(0).GetAsync(_switch.Name) is null)
                    throw new HypervisorException($"no switch '{_switch.Name}': make it with 'hvctl switch create {_switch.Name}'");
            }
            finally
            {
                _connecting = null;
            }
        }

        _switch.Plug(port, sink, HostOf(sink));
        KeepAliveWhilePlugged();
    }

    public Task DisconnectAsync(SwitchPort port, INetworkPortSink sink)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(sink);
        if (_switch.Unplug(port, sink))
            KeepAliveWhilePlugged();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Sorts the batch and starts its deliveries without waiting for them: a sender never waits for its
    /// receivers, and a receiver that is slow or gone costs only its own frames.
    /// </summary>
    public Task ForwardAsync(SwitchPort from, FrameBatch frames)
    {
        ForwardOutcome outcome = _switch.Forward(from, frames, _deliveries);
        Count(outcome);
        foreach (FrameDelivery delivery in _deliveries)
        {
            if (delivery.To.TakeTurn(delivery))
                _ = DeliverAsync(delivery);
        }

        _deliveries.Clear();
        return Task.CompletedTask;
    }

    public Task<SwitchStatus> GetStatusAsync() =>
        Task.FromResult(new SwitchStatus(_switch.Name, _switch.Describe(), _switch.Dropped));

    public Task<IReadOnlyList<SwitchPort>> GetPortsAsync() =>
        Task.FromResult<IReadOnlyList<SwitchPort>>(_connecting is { } connecting ? [.. _switch.Ports, connecting] : [.. _switch.Ports]);

    /// <summary>
    /// Batches to one port, one after the other, until its queue is empty. The continuations run on this
    /// activation like any turn, so the port's queue and counters need no lock; a failure (the VM stopped,
    /// its host is gone, it is moving) drops that batch.
    /// </summary>
    private async Task DeliverAsync(FrameDelivery delivery)
    {
        while (true)
        {
            bool delivered = false;
            try
            {
                await delivery.Sink.DeliverFramesAsync(delivery.Nic, delivery.Frames);
                delivered = true;
            }
            catch (Exception e)
            {
                logger.LogDebug("Switch {Switch} could not deliver {Frames} frames to port {Port}: {Reason}", _switch.Name, delivery.Frames.Count, delivery.To.Name, e.Message);
            }

            if (delivered)
                metrics.SwitchFrames(_switch.Name, delivery.To.Name, inbound: false, delivery.Frames.Count, delivery.Bytes);
            else
                metrics.SwitchDropped(_switch.Name, "undelivered", delivery.Frames.Count);
            if (!delivery.To.DeliveryEnded(delivery, delivered, out delivery))
                return;
        }
    }

    private void Count(ForwardOutcome outcome)
    {
        if (outcome.Sender is { } sender && outcome.FramesIn > 0)
            metrics.SwitchFrames(_switch.Name, sender.Name, inbound: true, outcome.FramesIn, outcome.BytesIn);
        CountDropped("malformed", outcome.Malformed);
        CountDropped("unplugged", outcome.Unplugged);
        CountDropped("spoofed", outcome.Spoofed);
        CountDropped("port_full", outcome.NoRoom);
    }

    private void CountDropped(string reason, int frames)
    {
        if (frames > 0)
            metrics.SwitchDropped(_switch.Name, reason, frames);
    }

    // Orleans 10: an infinite delay keeps the activation from idle collection until a zero one lifts it.
    private void KeepAliveWhilePlugged() => DelayDeactivation(_switch.Count > 0 ? Timeout.InfiniteTimeSpan : TimeSpan.Zero);

    /// <summary>The host a port's frames go to, when its sink is a VM's worker (keyed HOST/VM); null for any other sink.</summary>
    private string? HostOf(INetworkPortSink sink)
    {
        GrainId id = sink.GetGrainId();
        _workerType ??= GrainFactory.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format("host", "vm")).GetGrainId().Type;
        return id.Type == _workerType ? VmWorkerKey.HostOf(id.Key.ToString()) : null;
    }
}
