using Actors.HwBackend.Network;

namespace Actors.Grains.Network;

/// <summary>
/// A virtual switch without Orleans: its ports by name and by MAC address, and the sorting of the frames
/// a port sends into one batch for each port they go to. The switch learns each port's address from
/// the port itself, as Hyper-V's switch does from the adapter it connects, not from the traffic, so there
/// is nothing to age out and a VM that moves takes its address along. A frame goes to the port of its
/// destination; a broadcast, a multicast or an address no port has goes to every port but its sender.
/// </summary>
internal sealed class VirtualSwitch(string name)
{
    private readonly Dictionary<(string Vm, int Nic), PluggedPort> _byName = [];
    private readonly Dictionary<MacAddress, PluggedPort> _byAddress = [];

    // Flooding walks a list: no enumerator to allocate, and every batch meets the ports in one order.
    private readonly List<PluggedPort> _ports = [];

    public string Name => name;

    public int Count => _ports.Count;

    /// <summary>Frames dropped before any port: malformed batches, frames from ports not plugged in, and spoofed ones.</summary>
    public long Dropped { get; private set; }

    public IEnumerable<SwitchPort> Ports => _ports.Select(p => p.Port);

    /// <summary>Plugs <paramref name="port"/> in, or moves it to <paramref name="sink"/> with its counters and address.</summary>
    public PluggedPort Plug(SwitchPort port, INetworkPortSink sink, string? host)
    {
        MacAddress address = AddressOf(port);
        _byName.TryGetValue(KeyOf(port), out PluggedPort? plugged);
        if (_byAddress.TryGetValue(address, out PluggedPort? holder) && holder != plugged)
            throw new HypervisorException($"port {port}: {port.Mac} is already the address of port {holder.Name} on switch '{name}'; give each adapter its own");
        if (plugged is null)
        {
            plugged = new PluggedPort(port, address, sink, host);
            _byName.Add(KeyOf(port), plugged);
            _ports.Add(plugged);
        }
        else
        {
            _byAddress.Remove(plugged.Mac);
            plugged.MoveTo(port, address, sink, host);
        }

        _byAddress[address] = plugged;
        return plugged;
    }

    /// <summary>Unplugs <paramref name="port"/> if its frames still go to <paramref name="sink"/>: a host the VM has left may call late.</summary>
    public bool Unplug(SwitchPort port, INetworkPortSink sink)
    {
        if (!_byName.TryGetValue(KeyOf(port), out PluggedPort? plugged) || !plugged.IsDeliveredTo(sink))
            return false;
        _byName.Remove(KeyOf(port));
        _byAddress.Remove(plugged.Mac);
        _ports.Remove(plugged);
        return true;
    }

    public IReadOnlyList<SwitchPortStatus> Describe() =>
        [.. _ports.OrderBy(p => p.Port.Vm, StringComparer.Ordinal).ThenBy(p => p.Port.Nic).Select(p => p.Describe())];

    /// <summary>
    /// Sorts the frames <paramref name="from"/> sent into <paramref name="deliveries"/>, at most one batch per
    /// port, each in the order the frames came. A port whose queue holds <see cref="PluggedPort.QueueBatches"/>
    /// batches gets nothing of this one. A malformed batch is dropped whole: its frames
    /// cannot be told apart. Allocates per batch and per destination, never per frame.
    /// </summary>
    public ForwardOutcome Forward(SwitchPort from, FrameBatch batch, List<FrameDelivery> deliveries)
    {
        if (!IsWellFormed(batch))
            return Drop(new ForwardOutcome(null, 0, 0, Malformed: Math.Max(1, batch?.Lengths?.Length ?? 0)));
        if (from is null || !_byName.TryGetValue(KeyOf(from), out PluggedPort? sender))
            return Drop(new ForwardOutcome(null, 0, 0, Unplugged: batch.Count));

        (int accepted, long acceptedBytes, int spoofed) = Distribute(batch, sender, copy: false);
        sender.Received(accepted, acceptedBytes);
        int noRoom = StartWholeOrPrepareCopies(batch, deliveries, out bool copy);
        if (copy)
        {
            Distribute(batch, sender, copy: true);
            foreach (PluggedPort port in _ports)
            {
                if (port.TryTakeCopy(out FrameDelivery copied))
                    deliveries.Add(copied);
            }
        }

        return Drop(new ForwardOutcome(sender, accepted, acceptedBytes, Spoofed: spoofed, NoRoom: noRoom));
    }

    /// <summary>
    /// Walks the batch's frames in order and hands each to the ports it goes to: on the first walk they
    /// count it (<see cref="PluggedPort.Queue"/>), on the second they copy it (<see cref="PluggedPort.Append"/>).
    /// </summary>
    private (int Accepted, long Bytes, int Spoofed) Distribute(FrameBatch batch, PluggedPort sender, bool copy)
    {
        int accepted = 0, spoofed = 0;
        long bytes = 0;
        int offset = 0;
        foreach (int length in batch.Lengths)
        {
            ReadOnlySpan<byte> frame = batch.Data.AsSpan(offset, length);
            offset += length;
            Route route = RouteOf(frame, sender, out PluggedPort? to);
            if (route == Route.Spoofed)
            {
                spoofed++;
                continue;
            }

            accepted++;
            bytes += length;
            if (route == Route.Port)
            {
                Hand(to!, frame, copy);
                continue;
            }

            if (route != Route.Flood)
                continue;
            foreach (PluggedPort port in _ports)
            {
                if (port != sender)
                    Hand(port, frame, copy);
            }
        }

        return (accepted, bytes, spoofed);
    }

    private static void Hand(PluggedPort port, ReadOnlySpan<byte> frame, bool copy)
    {
        if (copy)
            port.Append(frame);
        else
            port.Queue(frame.Length);
    }

    private enum Route
    {
        /// <summary>Its source is not its sender's address: the spoofing Hyper-V refuses by default.</summary>
        Spoofed,

        /// <summary>Addressed to its own sender: a switch never sends a frame back where it came from.</summary>
        Nowhere,

        /// <summary>To the one port that has its destination.</summary>
        Port,

        /// <summary>A broadcast, a multicast or an address no port has: to every port but its sender.</summary>
        Flood,
    }

    private Route RouteOf(ReadOnlySpan<byte> frame, PluggedPort sender, out PluggedPort? to)
    {
        to = null;
        if (MacAddress.Read(frame[MacAddress.Bytes..]) != sender.Mac)
            return Route.Spoofed;
        MacAddress destination = MacAddress.Read(frame);
        if (destination.IsGroup || !_byAddress.TryGetValue(destination, out to))
            return Route.Flood;
        return to == sender ? Route.Nowhere : Route.Port;
    }

    /// <summary>Drops the queued frames of full ports, sends a batch on as it is where all of it goes, and readies copies elsewhere.</summary>
    private int StartWholeOrPrepareCopies(FrameBatch batch, List<FrameDelivery> deliveries, out bool copy)
    {
        int noRoom = 0;
        copy = false;
        foreach (PluggedPort port in _ports)
        {
            if (!port.HasQueued)
                continue;
            noRoom += port.DropQueuedIfFull();
            if (!port.HasQueued)
                continue;
            if (port.TryTakeWhole(batch, out FrameDelivery whole))
            {
                deliveries.Add(whole);
                continue;
            }

            port.PrepareCopy();
            copy = true;
        }

        return noRoom;
    }

    private ForwardOutcome Drop(ForwardOutcome outcome)
    {
        Dropped += outcome.Malformed + outcome.Unplugged + outcome.Spoofed;
        return outcome;
    }

    /// <summary>Whole frames of legal sizes, back to back, filling the data exactly: anything else cannot be split safely.</summary>
    private static bool IsWellFormed(FrameBatch? batch)
    {
        if (batch?.Data is null || batch.Lengths is null)
            return false;
        long total = 0;
        foreach (int length in batch.Lengths)
        {
            if (length is < FrameBatch.MinimumFrameBytes or > FrameBatch.MaximumFrameBytes)
                return false;
            total += length;
        }

        return total == batch.Data.Length;
    }

    private static (string Vm, int Nic) KeyOf(SwitchPort port) => (port.Vm, port.Nic);

    /// <summary>The port's own address, which must be one a single adapter can have.</summary>
    private static MacAddress AddressOf(SwitchPort port)
    {
        if (string.IsNullOrEmpty(port.Vm))
            throw new HypervisorException("a switch port needs the name of its VM");
        if (port.Nic < 0)
            throw new HypervisorException($"port {port}: a NIC's index is 0 or more");
        if (!MacAddress.TryParse(port.Mac, out MacAddress address))
            throw new HypervisorException($"port {port}: '{port.Mac}' is not a MAC address (six bytes as 00:15:5d:01:02:03)");
        if (address.IsGroup || address.Value == 0)
            throw new HypervisorException($"port {port}: {port.Mac} is not an address one adapter can have (a group address, or all zeroes)");
        return address;
    }
}
