namespace Actors.HwBackend.VmBus;

/// <summary>
/// Where a VSP that serves a channel from elsewhere meets its device: it applies the events its
/// VM's <see cref="VmBusRelay"/> collected to the device, as the bus would have called it, and hands
/// back what the device sent. Events of an earlier open than the current one are stale and ignored.
/// Used from one grain's turns.
/// </summary>
public sealed class VmBusRelayEndpoint(uint relid, IVmBusDevice device)
{
    private RelayedChannel? _channel;

    /// <summary>The open this endpoint serves, or null while the channel is closed.</summary>
    public int? Epoch => _channel?.Epoch;

    /// <summary>Applies <paramref name="events"/> in order and returns what the device sent meanwhile, for <see cref="Epoch"/>.</summary>
    public VmBusRelayPacket[] Apply(IEnumerable<VmBusRelayEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (VmBusRelayEvent e in events)
        {
            switch (e.Kind)
            {
                case VmBusRelayEventKind.Opened:
                    if (_channel is not null)
                        device.Closed();
                    _channel = new RelayedChannel(relid, e.Epoch);
                    device.Opened(_channel);
                    break;
                case VmBusRelayEventKind.Packet when _channel?.Epoch == e.Epoch && e.Packet is not null:
                    _channel.Deliver(e.Packet);
                    device.Signalled(_channel);
                    break;
                case VmBusRelayEventKind.Closed when _channel?.Epoch == e.Epoch:
                    _channel = null;
                    device.Closed();
                    break;
            }
        }
        return TakeUnsent();
    }

    /// <summary>What the device sent by itself (a timer's request), for <see cref="Epoch"/>; empty while closed.</summary>
    public VmBusRelayPacket[] TakeUnsent() => _channel?.TakeUnsent() ?? [];

    /// <summary>The VM's host stopped listening (the VM stopped or moved, and its new host will tell us): closes the device.</summary>
    public void Lose()
    {
        if (_channel is null)
            return;
        _channel = null;
        device.Closed();
    }
}
