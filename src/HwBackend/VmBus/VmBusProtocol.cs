using System.Buffers.Binary;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.VmBus;

/// <summary>
/// The host's side of the VMBus connection of one partition, as Linux 6.1's <c>hv_vmbus</c>
/// negotiates it: the guest posts channel messages (HvPostMessage, type 1) to the message
/// connection, and the answers go into the SynIC message slot of the VP and SINT the guest named
/// when it made contact. The bus connects, offers its channels, takes the GPADLs the guest lends
/// them and opens and closes them; the data that flows through the channels' rings is not here.
/// Guest input is untrusted: a message that is too short, of an unknown type, or out of turn is
/// counted and dropped, as Hyper-V drops it; a GPADL or an open that cannot be honoured is answered
/// with a failure status; an answer is never more than one message per message received, except the
/// offers, which come once per REQUESTOFFERS. GPADL pages must be guest RAM, and the bus holds at
/// most <see cref="MaxGpadls"/> GPADLs of <see cref="MaxGpadlPages"/> pages in all.
/// Calls come from the vCPU thread making the hypercall, so the state is under a lock.
/// </summary>
public sealed class VmBusProtocol : IHypercallTarget
{
    /// <summary>Where INITIATE_CONTACT goes from protocol 5.0 on (and the connection we name for what follows).</summary>
    public const uint ContactConnectionId = 4;

    /// <summary>Where messages go before 5.0, and where we tell a 5.0 guest to send the rest.</summary>
    public const uint MessageConnectionId = 1;

    /// <summary>Before 5.0 the guest does not name a SINT: answers go to SINT 2.</summary>
    public const int DefaultMessageSint = 2;

    /// <summary>The protocol versions we speak, (major &lt;&lt; 16) | minor: 5.0, the first with a guest-chosen SINT.</summary>
    public static readonly uint[] SupportedVersions = [0x0005_0000];

    public const int MaxChannels = 64;
    public const int MaxGpadls = 64;
    public const int MaxGpadlPages = 8192; // 32 MiB of rings and buffers

    /// <summary>OPENCHANNEL_RESULT and GPADL_CREATED status for a request that cannot be honoured (Linux logs it and fails the open).</summary>
    public const uint Failure = 0xC000_0001;

    private const int HeaderBytes = 8;
    private const int InitiateContactBytes = 40;
    private const int GpadlHeaderBytes = 28;
    private const int GpadlBodyBytes = 16;
    private const int OpenChannelBytes = 148;
    private const int OfferBytes = 196;

    private readonly Lock _lock = new();
    private readonly IVmBusGuest _guest;
    private readonly GuestPhysicalMap _memory;
    private readonly IReadOnlyList<VmBusOffer> _offers;
    private readonly IVmBusDevice?[] _devices;
    private readonly VmBusChannel?[] _open;
    private VmBusState _state = VmBusState.Disconnected;
    private readonly Dictionary<uint, Gpadl> _gpadls = [];

    // The complete GPADLs as devices look them up: replaced (never changed) under the lock, read
    // without it, since a device asks from under its own lock, which the bus takes after its own.
    private volatile Dictionary<uint, Gpadl> _completeGpadls = [];
    private VmBusChannelState[] _channels;
    private readonly bool[] _withdrawn; // rescinded by the host: not offered until offered again
    private readonly bool[] _releasing; // rescinded while the guest knew it: its relid not released yet
    private long _dropped;
    private readonly long[] _received = new long[32]; // by message type; [0] for types no guest should send
    private long _signals;

    /// <param name="offers">The devices on the bus; channel ids (relids) are their positions, from 1.</param>
    /// <param name="devices">The host's end of each offer (same positions; null for none).</param>
    public VmBusProtocol(IVmBusGuest guest, GuestPhysicalMap memory, IReadOnlyList<VmBusOffer> offers, IReadOnlyList<IVmBusDevice?>? devices = null)
    {
        ArgumentNullException.ThrowIfNull(guest);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(offers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offers.Count, MaxChannels, nameof(offers));
        _guest = guest;
        _memory = memory;
        _offers = offers;
        _devices = new IVmBusDevice?[offers.Count];
        devices?.Take(offers.Count).ToArray().CopyTo(_devices, 0);
        _open = new VmBusChannel?[offers.Count];
        _withdrawn = new bool[offers.Count];
        _releasing = new bool[offers.Count];
        _channels = ClosedChannels();
    }

    /// <summary>The bus as it stands, its channels and GPADLs included.</summary>
    public VmBusState State
    {
        get
        {
            lock (_lock)
            {
                return _state with
                {
                    Channels = [.. _channels],
                    Gpadls = [.. _gpadls.Values.OrderBy(g => g.Handle)],
                    Withdrawn = Relids(_withdrawn),
                    Releasing = Relids(_releasing),
                };
            }
        }
    }

    /// <summary>Guest messages dropped: too short, unknown, out of turn, or answers the guest's SynIC could not take.</summary>
    public long Dropped
    {
        get { lock (_lock) return _dropped; }
    }

    /// <summary>Channel messages the guest posted, by type (its name, or "unknown"); only types that occurred.</summary>
    public IEnumerable<(string Type, long Count)> MessageCounts()
    {
        lock (_lock)
        {
            var counts = new List<(string, long)>();
            for (int type = 0; type < _received.Length; type++)
            {
                if (_received[type] != 0)
                    counts.Add((Enum.IsDefined((VmBusMessageType)type) ? ((VmBusMessageType)type).ToString() : "unknown", _received[type]));
            }
            return counts;
        }
    }

    /// <summary>HvSignalEvent calls that reached an open channel.</summary>
    public long Signals
    {
        get { lock (_lock) return _signals; }
    }

    public HvStatus PostMessage(uint connectionId, uint messageType, ReadOnlySpan<byte> payload)
    {
        if (connectionId is not (MessageConnectionId or ContactConnectionId))
            return HvStatus.InvalidConnectionId;
        if (messageType != HvMessageType.VmBus)
            return HvStatus.InvalidParameter;
        lock (_lock)
        {
            if (payload.Length < HeaderBytes)
            {
                _dropped++;
                return HvStatus.Success;
            }
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(payload);
            _received[type < (uint)_received.Length ? type : 0]++;
            switch ((VmBusMessageType)type)
            {
                case VmBusMessageType.InitiateContact:
                    InitiateContactLocked(payload);
                    break;
                case VmBusMessageType.RequestOffers when _state.Connected:
                    for (int i = 0; i < _offers.Count; i++)
                    {
                        if (!_withdrawn[i])
                            SendLocked(VmBusMessageType.OfferChannel, Offer(i));
                    }
                    SendLocked(VmBusMessageType.AllOffersDelivered, []);
                    break;
                case VmBusMessageType.RelIdReleased when _state.Connected && payload.Length >= 12:
                    if (Channel(BinaryPrimitives.ReadUInt32LittleEndian(payload[8..])) is { } released && _releasing[released])
                        _releasing[released] = false;
                    else
                        _dropped++;
                    break;
                case VmBusMessageType.GpadlHeader when _state.Connected && payload.Length >= GpadlHeaderBytes:
                    GpadlHeaderLocked(payload);
                    break;
                case VmBusMessageType.GpadlBody when _state.Connected && payload.Length >= GpadlBodyBytes:
                    GpadlBodyLocked(payload);
                    break;
                case VmBusMessageType.GpadlTeardown when _state.Connected && payload.Length >= 16:
                    GpadlTeardownLocked(payload);
                    break;
                case VmBusMessageType.OpenChannel when _state.Connected && payload.Length >= OpenChannelBytes:
                    OpenChannelLocked(payload);
                    break;
                case VmBusMessageType.CloseChannel when _state.Connected && payload.Length >= 12:
                    if (Channel(BinaryPrimitives.ReadUInt32LittleEndian(payload[8..])) is { } closing)
                        CloseLocked(closing);
                    else
                        _dropped++;
                    break;
                case VmBusMessageType.ModifyChannel when _state.Connected && payload.Length >= 16:
                    ModifyChannelLocked(BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]), BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]));
                    break;
                case VmBusMessageType.Unload when _state.Connected:
                    SendLocked(VmBusMessageType.UnloadResponse, []);
                    _state = VmBusState.Disconnected;
                    ResetChannelsLocked();
                    break;
                default:
                    _dropped++;
                    break;
            }
        }
        return HvStatus.Success;
    }

    /// <summary>
    /// Withdraws the device at <paramref name="index"/> (RESCINDCHANNELOFFER, the way Hyper-V removes a
    /// device from a running VM): a connected guest closes the channel if it had it open, tears down its
    /// GPADLs and releases the relid (RELID_RELEASED). False when it is withdrawn already.
    /// </summary>
    public bool Rescind(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_offers.Count, nameof(index));
        lock (_lock)
        {
            if (_withdrawn[index])
                return false;
            _withdrawn[index] = true;
            if (_state.Connected)
            {
                _releasing[index] = true;
                SendWordsLocked(VmBusMessageType.RescindChannelOffer, [(uint)index + 1]);
            }
            return true;
        }
    }

    /// <summary>
    /// Offers a withdrawn device again (hot add); a connected guest gets its OFFERCHANNEL now. False
    /// when it is offered already, or while the guest has not yet released its relid from the rescind.
    /// </summary>
    public bool Reoffer(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_offers.Count, nameof(index));
        lock (_lock)
        {
            if (!_withdrawn[index] || _releasing[index])
                return false;
            _withdrawn[index] = false;
            if (_state.Connected)
                SendLocked(VmBusMessageType.OfferChannel, Offer(index));
            return true;
        }
    }

    /// <summary>
    /// Makes <paramref name="device"/> the host's end of offer <paramref name="index"/> (a VSP that
    /// serves it from elsewhere, say), in place of the one the bus was made with. Only while that
    /// channel is closed, since the old device would never hear of its close.
    /// </summary>
    /// <exception cref="InvalidOperationException">The guest has the channel open.</exception>
    public void SetDevice(int index, IVmBusDevice? device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _offers.Count);
        lock (_lock)
        {
            if (_open[index] is not null)
                throw new InvalidOperationException($"channel {index + 1} is open; its device cannot change");
            _devices[index] = device;
        }
    }

    /// <summary>The guest signals an open channel (HvSignalEvent to its connection): its device reads what arrived.</summary>
    public HvStatus SignalEvent(uint connectionId, ushort flagNumber)
    {
        VmBusChannel? channel;
        IVmBusDevice? device;
        // The channels on offer never change, so a connection that is none of theirs needs no lock.
        if (connectionId < ChannelConnectionId(1) || Channel(connectionId - ChannelConnectionId(0)) is not { } index)
            return HvStatus.InvalidConnectionId;
        lock (_lock)
        {
            if (_open[index] is null)
                return HvStatus.InvalidConnectionId;
            _signals++;
            (channel, device) = (_open[index], _devices[index]);
        }
        device?.Signalled(channel!);
        return HvStatus.Success;
    }

    public void RestoreState(VmBusState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
        {
            _state = state with { Channels = [], Gpadls = [] };
            _channels = ClosedChannels();
            foreach (VmBusChannelState channel in state.Channels)
                _channels[channel.ChannelId - 1] = channel;
            _gpadls.Clear();
            foreach (Gpadl gpadl in state.Gpadls)
                _gpadls[gpadl.Handle] = gpadl;
            PublishGpadlsLocked();
            Array.Clear(_withdrawn);
            Array.Clear(_releasing);
            foreach (uint relid in state.Withdrawn ?? [])
                _withdrawn[relid - 1] = true;
            foreach (uint relid in state.Releasing ?? [])
                _releasing[relid - 1] = true;
            // The channels' rings are in the restored RAM; their devices start over on them.
            for (int i = 0; i < _channels.Length; i++)
            {
                if (_channels[i].Open)
                    AttachLocked(i);
            }
        }
    }

    /// <summary>A problem that keeps <paramref name="state"/> from being restored here, or null.</summary>
    public string? FindRestoreProblem(VmBusState state)
    {
        foreach (uint relid in (state.Withdrawn ?? []).Concat(state.Releasing ?? []))
        {
            if (Channel(relid) is null)
                return $"withdrawn channel {relid} is not one this bus offers";
        }
        if ((state.Releasing ?? []).Except(state.Withdrawn ?? []).Any())
            return "a channel waits for its relid's release without having been withdrawn";
        if (!state.Connected)
            return null;
        if (Array.IndexOf(SupportedVersions, state.Version) < 0)
            return $"protocol version 0x{state.Version:x} is not one this build speaks";
        if (state.TargetVp >= (uint)_guest.ProcessorCount || (uint)state.MessageSint >= SyntheticInterruptController.SintCount)
            return $"VP {state.TargetVp}, SINT {state.MessageSint} does not exist here";
        foreach (VmBusChannelState channel in state.Channels)
        {
            if (channel.ChannelId < 1 || channel.ChannelId > _offers.Count || channel.TargetVp >= (uint)_guest.ProcessorCount)
                return $"channel {channel.ChannelId} is not one this bus offers on {_guest.ProcessorCount} VPs";
            if (!channel.Open)
                continue;
            Gpadl? ring = state.Gpadls.FirstOrDefault(g => g.Handle == channel.RingGpadl);
            if (ring is not { Complete: true } || channel.DownstreamPageOffset < 2 || channel.DownstreamPageOffset > ring.Pages.Length - 2)
                return $"open channel {channel.ChannelId} has no complete ring GPADL 0x{channel.RingGpadl:x} to split at page {channel.DownstreamPageOffset}";
        }
        foreach (Gpadl gpadl in state.Gpadls)
        {
            if (gpadl.Pages.Any(page => !IsRamPage(page)))
                return $"GPADL 0x{gpadl.Handle:x} names a page that is not RAM";
        }
        return null;
    }

    private void InitiateContactLocked(ReadOnlySpan<byte> message)
    {
        if (message.Length < InitiateContactBytes)
        {
            _dropped++;
            return;
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
        uint targetVp = BinaryPrimitives.ReadUInt32LittleEndian(message[12..]);
        int sint = version >= 0x0005_0000 ? message[16] : DefaultMessageSint;
        bool supported = Array.IndexOf(SupportedVersions, version) >= 0;
        bool addressable = targetVp < (uint)_guest.ProcessorCount && sint < SyntheticInterruptController.SintCount;

        // A version we do not speak is refused (the guest then offers an older one); so is a VP or SINT
        // that does not exist. The refusal goes where the guest asked when that exists, else to VP 0's SINT 2.
        var answerTo = addressable
            ? VmBusState.Disconnected with { TargetVp = targetVp, MessageSint = sint }
            : VmBusState.Disconnected;
        _state = supported && addressable
            ? new VmBusState(Connected: true, version, targetVp, sint, BinaryPrimitives.ReadUInt64LittleEndian(message[24..]), BinaryPrimitives.ReadUInt64LittleEndian(message[32..]), [], [])
            : answerTo;
        // Contact starts the bus afresh (a guest that kexecs into a new kernel makes contact again).
        ResetChannelsLocked();
        Array.Clear(_releasing);

        // VERSION_RESPONSE: version_supported, connection_state (0: connected), padding, msg_conn_id.
        Span<byte> body = stackalloc byte[8];
        body[0] = _state.Connected ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], MessageConnectionId);
        SendLocked(VmBusMessageType.VersionResponse, body);
    }

    /// <summary>OFFERCHANNEL for offer <paramref name="index"/>: the offer, then its relid, no monitor, a dedicated interrupt, its connection id.</summary>
    private byte[] Offer(int index)
    {
        var body = new byte[OfferBytes - HeaderBytes];
        _offers[index].InterfaceType.TryWriteBytes(body);
        _offers[index].InterfaceInstance.TryWriteBytes(body.AsSpan(16));
        uint relid = (uint)index + 1;
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(176), relid);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(182), 1); // is_dedicated_interrupt
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(184), ChannelConnectionId(relid));
        return body;
    }

    /// <summary>Where the guest signals a channel (HvSignalEvent), one connection per channel, above the bus's own.</summary>
    public static uint ChannelConnectionId(uint relid) => 0x10 + relid;

    private void GpadlHeaderLocked(ReadOnlySpan<byte> message)
    {
        uint relid = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
        uint handle = BinaryPrimitives.ReadUInt32LittleEndian(message[12..]);
        int rangeBytes = BinaryPrimitives.ReadUInt16LittleEndian(message[16..]);
        int rangeCount = BinaryPrimitives.ReadUInt16LittleEndian(message[18..]);
        uint byteCount = BinaryPrimitives.ReadUInt32LittleEndian(message[20..]);
        uint byteOffset = BinaryPrimitives.ReadUInt32LittleEndian(message[24..]);
        int pageCount = (rangeBytes - 8) / 8;
        int here = Math.Min(pageCount, (message.Length - GpadlHeaderBytes) / 8);
        long pagesHeld = _gpadls.Values.Sum(g => (long)g.Pages.Length);
        // One range (what Linux sends), page-aligned, whose byte count fits its pages; a handle not in use.
        bool acceptable = Channel(relid) is { } offered && !_withdrawn[offered] && rangeCount == 1 && rangeBytes >= 16 && (rangeBytes - 8) % 8 == 0
            && byteOffset < GuestRam.PageSize && byteCount > 0 && byteOffset + (ulong)byteCount <= (ulong)pageCount * GuestRam.PageSize
            && !_gpadls.ContainsKey(handle) && _gpadls.Count < MaxGpadls && pagesHeld + pageCount <= MaxGpadlPages;
        if (!acceptable)
        {
            SendGpadlCreatedLocked(relid, handle, Failure);
            return;
        }
        var pages = new ulong[pageCount];
        for (int i = 0; i < here; i++)
            pages[i] = BinaryPrimitives.ReadUInt64LittleEndian(message[(GpadlHeaderBytes + (8 * i))..]);
        AddPagesLocked(new Gpadl(handle, relid, byteCount, byteOffset, pages, 0), pages.AsSpan(0, here));
    }

    private void GpadlBodyLocked(ReadOnlySpan<byte> message)
    {
        uint handle = BinaryPrimitives.ReadUInt32LittleEndian(message[12..]);
        if (!_gpadls.TryGetValue(handle, out Gpadl? gpadl) || gpadl.Complete)
        {
            _dropped++;
            return;
        }
        int here = Math.Min(gpadl.Pages.Length - gpadl.Received, (message.Length - GpadlBodyBytes) / 8);
        Span<ulong> pages = gpadl.Pages.AsSpan(gpadl.Received, here);
        for (int i = 0; i < here; i++)
            pages[i] = BinaryPrimitives.ReadUInt64LittleEndian(message[(GpadlBodyBytes + (8 * i))..]);
        AddPagesLocked(gpadl, pages);
    }

    /// <summary>Takes pages into a GPADL; once it has them all, answers GPADL_CREATED (failing one that names a page outside RAM).</summary>
    private void AddPagesLocked(Gpadl gpadl, ReadOnlySpan<ulong> pages)
    {
        foreach (ulong page in pages)
        {
            if (!IsRamPage(page))
            {
                _gpadls.Remove(gpadl.Handle);
                SendGpadlCreatedLocked(gpadl.ChannelId, gpadl.Handle, Failure);
                return;
            }
        }
        gpadl = gpadl with { Received = gpadl.Received + pages.Length };
        _gpadls[gpadl.Handle] = gpadl;
        if (gpadl.Complete)
        {
            PublishGpadlsLocked();
            SendGpadlCreatedLocked(gpadl.ChannelId, gpadl.Handle, 0);
        }
    }

    private void PublishGpadlsLocked()
    {
        var complete = new Dictionary<uint, Gpadl>();
        foreach (Gpadl gpadl in _gpadls.Values)
        {
            if (gpadl.Complete)
                complete[gpadl.Handle] = gpadl;
        }
        _completeGpadls = complete;
    }

    private Gpadl? FindGpadl(uint handle) => _completeGpadls.GetValueOrDefault(handle);

    private void SendGpadlCreatedLocked(uint relid, uint handle, uint status)
    {
        SendWordsLocked(VmBusMessageType.GpadlCreated, [relid, handle, status]);
    }

    private void GpadlTeardownLocked(ReadOnlySpan<byte> message)
    {
        uint handle = BinaryPrimitives.ReadUInt32LittleEndian(message[12..]);
        // An open channel's ring cannot go: the guest closes the channel first.
        if (!_gpadls.ContainsKey(handle) || _channels.Any(c => c.Open && c.RingGpadl == handle))
        {
            _dropped++;
            return;
        }
        _gpadls.Remove(handle);
        PublishGpadlsLocked();
        SendWordsLocked(VmBusMessageType.GpadlTorndown, [handle]);
    }

    private void OpenChannelLocked(ReadOnlySpan<byte> message)
    {
        uint relid = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
        uint openId = BinaryPrimitives.ReadUInt32LittleEndian(message[12..]);
        uint ring = BinaryPrimitives.ReadUInt32LittleEndian(message[16..]);
        uint targetVp = BinaryPrimitives.ReadUInt32LittleEndian(message[20..]);
        uint downstream = BinaryPrimitives.ReadUInt32LittleEndian(message[24..]);
        int? channel = Channel(relid);
        // The ring GPADL must be complete and this channel's, with a header page and data on both sides of the split.
        bool acceptable = channel is { } c && !_withdrawn[c] && !_channels[c].Open && targetVp < (uint)_guest.ProcessorCount
            && _gpadls.TryGetValue(ring, out Gpadl? gpadl) && gpadl.Complete && gpadl.ChannelId == relid && gpadl.ByteOffset == 0
            && downstream >= 2 && downstream <= (uint)gpadl.Pages.Length - 2;
        if (acceptable)
            _channels[channel!.Value] = new VmBusChannelState(relid, true, openId, ring, targetVp, downstream);
        SendWordsLocked(VmBusMessageType.OpenChannelResult, [relid, openId, acceptable ? 0 : Failure]);
        // The device hears of it once the guest has its answer, so nothing reaches a channel still opening.
        if (acceptable)
            AttachLocked(channel!.Value);
    }

    /// <summary>
    /// MODIFYCHANNEL: the guest moves an open channel's interrupts to another VP (Linux does when its
    /// sysfs channel "cpu" is written). Before protocol 5.3 the guest expects no answer; a channel
    /// that is not open or a VP that does not exist is dropped.
    /// </summary>
    private void ModifyChannelLocked(uint relid, uint targetVp)
    {
        if (Channel(relid) is not { } index || !_channels[index].Open || targetVp >= (uint)_guest.ProcessorCount)
        {
            _dropped++;
            return;
        }
        _channels[index] = _channels[index] with { TargetVp = targetVp };
        _open[index]?.Retarget(targetVp);
    }

    /// <summary>Builds the rings of an open channel from its GPADL (guest-to-host first, then host-to-guest) and tells its device.</summary>
    private void AttachLocked(int index)
    {
        VmBusChannelState state = _channels[index];
        ulong[] pages = _gpadls[state.RingGpadl].Pages;
        int split = (int)state.DownstreamPageOffset;
        var inbound = new VmBusRing(_memory, pages.AsSpan(0, split));
        var outbound = new VmBusRing(_memory, pages.AsSpan(split));
        var channel = new VmBusChannel(state.ChannelId, state.TargetVp, _state.MessageSint, inbound, outbound, _guest, FindGpadl);
        _open[index] = channel;
        _devices[index]?.Opened(channel);
    }

    private void CloseLocked(int index)
    {
        if (!_channels[index].Open && _open[index] is null)
            return;
        _channels[index] = VmBusChannelState.Closed((uint)index + 1);
        if (_open[index] is not null)
        {
            _open[index] = null;
            _devices[index]?.Closed();
        }
    }

    private void ResetChannelsLocked()
    {
        for (int i = 0; i < _channels.Length; i++)
            CloseLocked(i);
        if (_gpadls.Count == 0 && _completeGpadls.Count == 0)
            return;
        _gpadls.Clear();
        PublishGpadlsLocked();
    }

    /// <summary>The index of the channel with <paramref name="relid"/>, or null when the bus offers none by that id.</summary>
    private int? Channel(uint relid) => relid >= 1 && relid <= (uint)_channels.Length ? (int)relid - 1 : null;

    private bool IsRamPage(ulong pfn) => pfn < (1UL << 40) && _memory.IsRam(pfn * GuestRam.PageSize, GuestRam.PageSize);

    private static uint[] Relids(bool[] flags) => [.. Enumerable.Range(0, flags.Length).Where(i => flags[i]).Select(i => (uint)i + 1)];

    private VmBusChannelState[] ClosedChannels() => [.. Enumerable.Range(1, _offers.Count).Select(i => VmBusChannelState.Closed((uint)i))];

    /// <summary>Sends a message whose body is 32-bit words, as most answers are.</summary>
    private void SendWordsLocked(VmBusMessageType type, ReadOnlySpan<uint> words)
    {
        Span<byte> body = stackalloc byte[4 * words.Length];
        for (int i = 0; i < words.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(body[(4 * i)..], words[i]);
        SendLocked(type, body);
    }

    // The header's two words and the body fill the buffer: zeroing it first would only cost time.
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private void SendLocked(VmBusMessageType type, ReadOnlySpan<byte> body)
    {
        Span<byte> message = stackalloc byte[HeaderBytes + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)type);
        BinaryPrimitives.WriteUInt32LittleEndian(message[4..], 0); // padding
        body.CopyTo(message[HeaderBytes..]);
        if (!_guest.PostMessage(_state.TargetVp, _state.MessageSint, message))
            _dropped++;
    }
}
