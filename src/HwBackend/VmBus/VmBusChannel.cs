namespace Actors.HwBackend.VmBus;

/// <summary>
/// An open channel as its device sees it: the guest-to-host ring to read, the host-to-guest ring
/// to write, and the signal that tells the guest (its event flag, the channel's relid, on the
/// target VP's VMBus SINT) when a packet arrives in an empty ring. Callable from any thread: the
/// vCPU thread that signalled us, or a device's own timer.
/// </summary>
public sealed class VmBusChannel(uint relid, uint targetVp, int sint, VmBusRing inbound, VmBusRing outbound, IVmBusGuest guest, Func<uint, Gpadl?> gpadls) : IVmBusChannel
{
    private uint _targetVp = targetVp;

    private readonly Lock _lock = new();

    public uint Relid { get; } = relid;

    /// <summary>Why the channel cannot be used any more (a ring the guest broke), or null.</summary>
    public string? Broken => inbound.Broken ?? outbound.Broken;

    /// <summary>Reads the next packet the guest sent; see <see cref="VmBusRing.TryRead"/>.</summary>
    public int TryReceive(Span<byte> packet)
    {
        lock (_lock)
            return inbound.TryRead(packet);
    }

    /// <summary>Sends an in-band packet and signals the guest if it needs telling; false when the ring is full or broken.</summary>
    public bool TrySend(ulong transactionId, ReadOnlySpan<byte> data) =>
        TrySend(VmBusPacketType.DataInband, 0, transactionId, [], data);

    public bool TrySend(VmBusPacketType type, ushort flags, ulong transactionId, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        bool signal;
        lock (_lock)
        {
            if (!outbound.TryWrite((ushort)type, flags, transactionId, header, data, out signal))
                return false;
        }
        if (signal)
            guest.SignalChannel(Volatile.Read(ref _targetVp), sint, Relid);
        return true;
    }

    public Gpadl? FindGpadl(uint handle) => gpadls(handle) is { } gpadl && gpadl.ChannelId == Relid ? gpadl : null;

    /// <summary>Signals go to <paramref name="targetVp"/> from now on (the guest moved the channel; the bus checked the VP exists).</summary>
    public void Retarget(uint targetVp) => Volatile.Write(ref _targetVp, targetVp);
}
