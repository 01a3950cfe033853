using System.Buffers.Binary;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Network;

namespace Actors.HwBackend.VmBus.Network;

/// <summary>
/// The host's end of a synthetic network adapter (Hyper-V's network VSP), as Linux's
/// <c>hv_netvsc</c> speaks to it. Over NVSP the guest negotiates a version, then lends a receive
/// buffer and a send buffer through GPADLs. Everything else is Remote NDIS: the guest's requests
/// (initialise, queries, sets) and its frames arrive in SEND_RNDIS_PACKET messages, the data in a
/// send-buffer section or in guest pages listed in the packet, and each is completed; what goes to
/// the guest (request completions, status indications and frames) is written into a section of the
/// receive buffer and named by a transfer-page packet, which the guest completes when it has taken
/// the data, freeing the section. Frames the guest sends go to the adapter's
/// <see cref="INetworkUplink"/>; frames for it come in through <see cref="Deliver"/>.
/// <para>
/// Everything in a packet is guest input: sizes, offsets, section indices and page lists are
/// checked before anything is read, and a message that fails is dropped and counted
/// (<see cref="Malformed"/>), completed with a failure where the guest waits for an answer.
/// Called on the vCPU thread that signalled and on whichever thread delivers frames; one lock.
/// </para>
/// </summary>
public sealed class NetworkVsp : IVmBusDevice
{
    /// <summary>A receive-buffer section: room for one frame of <see cref="MaximumFrameBytes"/> in its PACKET message, as Hyper-V sizes them.</summary>
    public const int ReceiveSectionBytes = 1728;

    /// <summary>A send-buffer section, as Linux's default; the guest batches small frames into one.</summary>
    public const int SendSectionBytes = 6144;

    /// <summary>The largest frame either way: a 1500-byte payload, its Ethernet header and an 802.1Q tag.</summary>
    public const int MaximumFrameBytes = 1518;

    /// <summary>The MTU the guest is told (its largest payload).</summary>
    public const int Mtu = 1500;

    private const int MinimumFrameBytes = 14;

    /// <summary>Receive sections frames leave free, so that the answers Linux waits for (some without a timeout) find room during a flood.</summary>
    private const int ReservedSections = 4;

    /// <summary>Answers and indications that found no room, kept to go out as sections free up; Linux has a handful of requests outstanding at most.</summary>
    private const int MaxUnsentReplies = 16;
    /// <summary>Receive sections an adapter uses at most, however large the buffer the guest lends.</summary>
    public const int MaximumSections = 16384;

    /// <summary>What one SEND_RNDIS_PACKET may carry: a large send, its headers and its RNDIS message.</summary>
    private const int MaximumGatheredBytes = 72 * 1024;
    private const ushort CompletionRequested = 1;

    /// <summary>Per-packet information with one 32-bit value: its size, type and offset, then the value.</summary>
    private const int ChecksumInfoBytes = 16;

    /// <summary>Link speed as NDIS states it, in units of 100 bit/s: 10 Gbit/s.</summary>
    private const uint LinkSpeed = 100_000_000;

    private readonly Lock _lock = new();
    private readonly GuestPhysicalMap _memory;
    private readonly INetworkUplink _uplink;
    private readonly byte[] _packet = new byte[8192];
    private readonly byte[] _gathered = new byte[MaximumGatheredBytes];
    private readonly byte[] _reply = new byte[512];
    private readonly byte[] _segment = new byte[MaximumFrameBytes];
    private readonly Queue<byte[]> _unsentReplies = new();
    private IVmBusChannel? _channel;
    private bool _detached;

    // Negotiated state, forgotten when the channel closes.
    private uint _version;
    private LentBuffer? _receiveBuffer, _sendBuffer;
    private ushort _receivePageSet;
    private uint _receiveGeneration;
    private bool[] _sectionInUse = [];
    private int[] _freeSections = [];
    private int _freeCount;
    private bool _rndisReady;
    private uint _packetFilter;
    private bool _receiveChecksums;
    private bool _linkUp = true;

    // Restored handles whose buffers are looked up again when the channel reopens on the new host.
    private NetworkVspState? _restored;

    private long _malformed, _transmittedFrames, _transmittedBytes, _receivedFrames, _receivedBytes, _receiveDrops;

    public NetworkVsp(GuestPhysicalMap memory, MacAddress address, INetworkUplink uplink)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(uplink);
        _memory = memory;
        Address = address;
        _uplink = uplink;
    }

    public MacAddress Address { get; }

    /// <summary>Messages or frames dropped or failed because the guest sent them malformed.</summary>
    public long Malformed { get { lock (_lock) return _malformed; } }

    public long TransmittedFrames { get { lock (_lock) return _transmittedFrames; } }

    public long TransmittedBytes { get { lock (_lock) return _transmittedBytes; } }

    public long ReceivedFrames { get { lock (_lock) return _receivedFrames; } }

    public long ReceivedBytes { get { lock (_lock) return _receivedBytes; } }

    /// <summary>
    /// Frames for the guest that found no room (no free receive section but the few kept for answers,
    /// or a full ring) or a guest not ready for them, and answers beyond the few that wait for room.
    /// </summary>
    public long ReceiveDrops { get { lock (_lock) return _receiveDrops; } }

    /// <summary>Whether the adapter's cable is plugged in (<see cref="SetLink"/>).</summary>
    public bool LinkUp { get { lock (_lock) return _linkUp; } }

    /// <summary>Whether the guest has negotiated and initialised the adapter, so that it takes frames.</summary>
    public bool Ready { get { lock (_lock) return _rndisReady && _receiveBuffer is not null; } }

    public void Opened(IVmBusChannel channel)
    {
        lock (_lock)
        {
            _channel = channel;
            if (_restored is { } state)
                ResumeLocked(channel, state);
            _restored = null;
        }
    }

    public void Closed()
    {
        lock (_lock)
        {
            _channel = null;
            ForgetLocked();
        }
    }

    public void Signalled(IVmBusChannel channel)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(channel, _channel) || _detached)
                return;
            int length;
            while ((length = channel.TryReceive(_packet)) > 0)
                ServeLocked(channel, _packet.AsSpan(0, length));
        }
    }

    /// <summary>The machine is going: frames that arrive after this are dropped, not written into memory that may be freed.</summary>
    public void Detach()
    {
        lock (_lock)
        {
            _detached = true;
            _channel = null;
        }
    }

    /// <summary>
    /// Gives the guest frames from the switch (<paramref name="lengths"/> of them back to back in
    /// <paramref name="frames"/>): those its packet filter takes, each in a receive section of its
    /// own. Returns how many went; the rest are dropped (a frame of a bad size or with no room is
    /// counted in <see cref="ReceiveDrops"/>).
    /// </summary>
    public int Deliver(ReadOnlySpan<byte> frames, ReadOnlySpan<int> lengths)
    {
        lock (_lock)
        {
            int delivered = 0, at = 0;
            foreach (int length in lengths)
            {
                if (length < 0 || length > frames.Length - at)
                    break;
                ReadOnlySpan<byte> frame = frames.Slice(at, length);
                at += length;
                if (!Wanted(frame))
                    continue;
                if (DeliverLocked(frame))
                    delivered++;
                else
                    _receiveDrops++;
            }
            return delivered;
        }
    }

    /// <summary>Connects or disconnects the adapter's cable: the guest is told (a media status indication) and its queries say so.</summary>
    public void SetLink(bool up)
    {
        lock (_lock)
        {
            if (_linkUp == up)
                return;
            _linkUp = up;
            if (_rndisReady)
                IndicateLocked(up ? Rndis.StatusMediaConnect : Rndis.StatusMediaDisconnect);
        }
    }

    /// <summary>What the guest negotiated, for a snapshot; the buffers themselves are in guest memory and the bus's GPADLs.</summary>
    public NetworkVspState SaveState()
    {
        lock (_lock)
        {
            if (_restored is { } restored)
                return restored;
            var inUse = new List<int>();
            for (int i = 0; i < _sectionInUse.Length; i++)
            {
                if (_sectionInUse[i])
                    inUse.Add(i);
            }
            return new NetworkVspState(_version, _receiveBuffer?.Handle ?? 0, _receivePageSet, _sendBuffer?.Handle ?? 0,
                _receiveGeneration, _rndisReady, _packetFilter, [.. inUse])
            { ReceiveChecksums = _receiveChecksums };
        }
    }

    /// <summary>Takes a snapshot's state; the buffers are found again when the bus reopens the channel on the restored memory.</summary>
    public void RestoreState(NetworkVspState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
            _restored = state;
    }

    private void ResumeLocked(IVmBusChannel channel, NetworkVspState state)
    {
        _version = state.Version;
        _receiveGeneration = state.ReceiveGeneration;
        _rndisReady = state.RndisReady;
        _packetFilter = state.PacketFilter;
        _receiveChecksums = state.ReceiveChecksums;
        if (state.ReceiveGpadl != 0 && channel.FindGpadl(state.ReceiveGpadl) is { } receive && LentBuffer.From(_memory, receive) is { } buffer)
        {
            TakeReceiveBufferLocked(buffer, state.ReceivePageSet);
            foreach (int section in state.SectionsInUse)
                TakeSectionLocked(section);
        }
        if (state.SendGpadl != 0 && channel.FindGpadl(state.SendGpadl) is { } send)
            _sendBuffer = LentBuffer.From(_memory, send);
    }

    private void ForgetLocked()
    {
        (_version, _receiveBuffer, _sendBuffer, _rndisReady, _packetFilter, _receiveChecksums) = (0, null, null, false, 0, false);
        (_sectionInUse, _freeSections, _freeCount) = ([], [], 0);
        _unsentReplies.Clear();
    }

    private void ServeLocked(IVmBusChannel channel, ReadOnlySpan<byte> packet)
    {
        var type = (VmBusPacketType)BinaryPrimitives.ReadUInt16LittleEndian(packet);
        int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(packet[2..]) * 8;
        bool answer = (BinaryPrimitives.ReadUInt16LittleEndian(packet[6..]) & CompletionRequested) != 0;
        ulong transaction = BinaryPrimitives.ReadUInt64LittleEndian(packet[8..]);
        ReadOnlySpan<byte> message = dataOffset <= packet.Length ? packet[dataOffset..] : [];
        if (message.Length < 4)
        {
            _malformed++;
            return;
        }
        uint messageType = BinaryPrimitives.ReadUInt32LittleEndian(message);
        if (type == VmBusPacketType.Completion)
        {
            // The guest has taken what a transfer-page packet named: its sections are free again.
            if (messageType == Nvsp.SendRndisPacketComplete)
                ReleaseLocked(transaction);
            else
                _malformed++;
            return;
        }
        if (type is not (VmBusPacketType.DataInband or VmBusPacketType.DataUsingGpaDirect))
        {
            _malformed++;
            return;
        }
        Span<byte> reply = stackalloc byte[Nvsp.MessageBytes];
        reply.Clear();
        switch (messageType)
        {
            case Nvsp.Init when message.Length >= 12:
                uint version = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]); // its highest; Linux asks for one at a time
                bool accepted = _version == 0 && Nvsp.IsSupportedVersion(version);
                if (accepted)
                    _version = version;
                WriteAnswer(reply, Nvsp.InitComplete, accepted ? version : 0, 0, accepted ? Nvsp.StatusSuccess : Nvsp.StatusFailure);
                break;
            case Nvsp.SendNdisVersion or Nvsp.SendNdisConfig:
                return; // what the guest runs and its MTU: nothing to answer
            case Nvsp.SendReceiveBuffer when message.Length >= 10:
                ReceiveBufferLocked(channel, message, reply);
                break;
            case Nvsp.SendSendBuffer when message.Length >= 10:
                SendBufferLocked(channel, message, reply);
                break;
            case Nvsp.RevokeReceiveBuffer:
                (_receiveBuffer, _sectionInUse, _freeSections, _freeCount) = (null, [], [], 0);
                return;
            case Nvsp.RevokeSendBuffer:
                _sendBuffer = null;
                return;
            case Nvsp.SendRndisPacket when message.Length >= 16:
                bool served = RndisLocked(channel, packet, dataOffset, type, message);
                WriteAnswer(reply, Nvsp.SendRndisPacketComplete, served ? Nvsp.StatusSuccess : Nvsp.StatusFailure);
                break;
            case Nvsp.Subchannel:
                WriteAnswer(reply, Nvsp.Subchannel, Nvsp.StatusFailure, 0); // one channel only
                break;
            case Nvsp.SwitchDataPath:
                if (answer)
                    channel.TrySend(VmBusPacketType.Completion, 0, transaction, [], []); // there is no other path to switch to
                return;
            default:
                _malformed++;
                if (!answer)
                    return;
                BinaryPrimitives.WriteUInt32LittleEndian(reply, messageType);
                break;
        }
        if (answer)
            channel.TrySend(VmBusPacketType.Completion, 0, transaction, [], reply);
    }

    private static void WriteAnswer(Span<byte> reply, uint type, params ReadOnlySpan<uint> fields)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(reply, type);
        for (int i = 0; i < fields.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(reply[(4 + (4 * i))..], fields[i]);
    }

    /// <summary>SEND_RECEIVE_BUFFER: the guest lends the buffer the host writes into, cut into sections of <see cref="ReceiveSectionBytes"/>.</summary>
    private void ReceiveBufferLocked(IVmBusChannel channel, ReadOnlySpan<byte> message, Span<byte> reply)
    {
        uint handle = BinaryPrimitives.ReadUInt32LittleEndian(message[4..]);
        ushort pageSet = BinaryPrimitives.ReadUInt16LittleEndian(message[8..]);
        LentBuffer? buffer = _version != 0 && _receiveBuffer is null && channel.FindGpadl(handle) is { } gpadl ? LentBuffer.From(_memory, gpadl) : null;
        if (buffer is null || buffer.Length < ReceiveSectionBytes)
        {
            _malformed++;
            WriteAnswer(reply, Nvsp.SendReceiveBufferComplete, Nvsp.StatusFailure);
            return;
        }
        _receiveGeneration++;
        TakeReceiveBufferLocked(buffer, pageSet);
        int sections = _sectionInUse.Length;
        // One section list: offset 0, sub-allocation size and count, and where it ends.
        WriteAnswer(reply, Nvsp.SendReceiveBufferComplete, Nvsp.StatusSuccess, 1, 0, ReceiveSectionBytes, (uint)sections, (uint)(sections * ReceiveSectionBytes));
    }

    private void TakeReceiveBufferLocked(LentBuffer buffer, ushort pageSet)
    {
        int sections = Math.Min(buffer.Length / ReceiveSectionBytes, MaximumSections);
        (_receiveBuffer, _receivePageSet) = (buffer, pageSet);
        _sectionInUse = new bool[sections];
        _freeSections = new int[sections];
        for (int i = 0; i < sections; i++)
            _freeSections[i] = sections - 1 - i;
        _freeCount = sections;
    }

    /// <summary>SEND_SEND_BUFFER: the guest lends the buffer it copies small frames into; the host chooses its section size.</summary>
    private void SendBufferLocked(IVmBusChannel channel, ReadOnlySpan<byte> message, Span<byte> reply)
    {
        uint handle = BinaryPrimitives.ReadUInt32LittleEndian(message[4..]);
        LentBuffer? buffer = _version != 0 && _sendBuffer is null && channel.FindGpadl(handle) is { } gpadl ? LentBuffer.From(_memory, gpadl) : null;
        if (buffer is null || buffer.Length < SendSectionBytes)
        {
            _malformed++;
            WriteAnswer(reply, Nvsp.SendSendBufferComplete, Nvsp.StatusFailure, 0);
            return;
        }
        _sendBuffer = buffer;
        WriteAnswer(reply, Nvsp.SendSendBufferComplete, Nvsp.StatusSuccess, SendSectionBytes);
    }

    /// <summary>
    /// SEND_RNDIS_PACKET from the guest: gathers its bytes (a send-buffer section, then any page
    /// ranges, since Linux may put a frame's header in the one and its data in the other) and serves
    /// the RNDIS messages in them, one after another by their lengths. False for a packet whose data
    /// cannot be gathered or holds a malformed message.
    /// </summary>
    private bool RndisLocked(IVmBusChannel channel, ReadOnlySpan<byte> packet, int dataOffset, VmBusPacketType type, ReadOnlySpan<byte> message)
    {
        uint section = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
        uint sectionBytes = BinaryPrimitives.ReadUInt32LittleEndian(message[12..]);
        int length = Gather(packet, dataOffset, type, section, sectionBytes);
        if (length < 0)
        {
            _malformed++;
            return false;
        }
        ReadOnlySpan<byte> data = _gathered.AsSpan(0, length);
        bool wellFormed = true;
        while (data.Length >= Rndis.HeaderBytes)
        {
            uint kind = BinaryPrimitives.ReadUInt32LittleEndian(data);
            uint messageLength = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            if (messageLength < Rndis.HeaderBytes || messageLength > (uint)data.Length)
            {
                wellFormed = false;
                break;
            }
            wellFormed &= RndisMessageLocked(channel, kind, data[..(int)messageLength]);
            data = data[(int)messageLength..];
        }
        if (!wellFormed)
            _malformed++;
        return wellFormed;
    }

    /// <summary>Copies a SEND_RNDIS_PACKET's data into the gather buffer; its length, or -1 when a section or range is not the guest's to name.</summary>
    private int Gather(ReadOnlySpan<byte> packet, int dataOffset, VmBusPacketType type, uint section, uint sectionBytes)
    {
        int length = 0;
        if (section != Nvsp.NoSection)
        {
            if (_sendBuffer is not { } send || sectionBytes > SendSectionBytes || (ulong)section * SendSectionBytes + sectionBytes > (ulong)send.Length)
                return -1;
            send.Read((int)section * SendSectionBytes, _gathered.AsSpan(0, (int)sectionBytes));
            length = (int)sectionBytes;
        }
        if (type != VmBusPacketType.DataUsingGpaDirect)
            return length;
        // GPA direct: a range count at 20, then each range's length, offset and pages.
        if (dataOffset < 24)
            return -1;
        uint ranges = BinaryPrimitives.ReadUInt32LittleEndian(packet[20..]);
        int at = 24;
        for (uint r = 0; r < ranges; r++)
        {
            if (at + 8 > dataOffset)
                return -1;
            uint rangeLength = BinaryPrimitives.ReadUInt32LittleEndian(packet[at..]);
            uint rangeOffset = BinaryPrimitives.ReadUInt32LittleEndian(packet[(at + 4)..]);
            if (rangeOffset >= GuestRam.PageSize || rangeLength > (uint)(MaximumGatheredBytes - length))
                return -1;
            int pages = (int)((rangeOffset + rangeLength + GuestRam.PageSize - 1) / GuestRam.PageSize);
            at += 8;
            if (at + (8 * pages) > dataOffset)
                return -1;
            int done = 0;
            for (int p = 0; p < pages; p++)
            {
                ulong pfn = BinaryPrimitives.ReadUInt64LittleEndian(packet[(at + (8 * p))..]);
                int start = p == 0 ? (int)rangeOffset : 0;
                int chunk = Math.Min((int)rangeLength - done, GuestRam.PageSize - start);
                ulong gpa = (pfn * GuestRam.PageSize) + (ulong)start;
                if (pfn >= 1UL << 40 || !_memory.IsRam(gpa, (ulong)chunk))
                    return -1;
                _memory.Read(gpa, _gathered.AsSpan(length + done, chunk));
                done += chunk;
            }
            length += done;
            at += 8 * pages;
        }
        return length;
    }

    /// <summary>One RNDIS message the guest sent; false when it is malformed.</summary>
    private bool RndisMessageLocked(IVmBusChannel channel, uint kind, ReadOnlySpan<byte> message)
    {
        ReadOnlySpan<byte> body = message[Rndis.HeaderBytes..];
        uint requestId = body.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(body) : 0;
        switch (kind)
        {
            case Rndis.Packet:
                return TransmitLocked(body);
            case Rndis.Initialize when body.Length >= 16:
                _rndisReady = true;
                // Status, version 1.0, connectionless, 802.3, up to 8 packets per message of 16 KiB, aligned to 8 bytes.
                ReplyLocked(channel, Rndis.Initialize | Rndis.Completion, requestId, Rndis.StatusSuccess, 1, 0, 1, 0, 8, 0x4000, 3, 0, 0);
                return true;
            case Rndis.Query when body.Length >= 20:
                QueryLocked(channel, requestId, BinaryPrimitives.ReadUInt32LittleEndian(body[4..]));
                return true;
            case Rndis.Set when body.Length >= 20:
                return SetLocked(channel, requestId, body);
            case Rndis.Halt:
                _rndisReady = false;
                return true;
            case Rndis.Reset:
                ReplyLocked(channel, Rndis.Reset | Rndis.Completion, Rndis.StatusSuccess, 0);
                return true;
            case Rndis.KeepAlive when body.Length >= 4:
                ReplyLocked(channel, Rndis.KeepAlive | Rndis.Completion, requestId, Rndis.StatusSuccess);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// A PACKET: the frame at its data offset (from the start of the packet fields) goes to the switch,
    /// finished as its per-packet information asks: checksummed, or cut into segments (a large send).
    /// </summary>
    private bool TransmitLocked(ReadOnlySpan<byte> fields)
    {
        if (fields.Length < Rndis.PacketFieldBytes)
            return false;
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(fields);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(fields[4..]);
        if (offset < Rndis.PacketFieldBytes || offset > (uint)fields.Length || length > (uint)fields.Length - offset || length < MinimumFrameBytes)
            return false;
        ReadOnlySpan<byte> frame = fields.Slice((int)offset, (int)length);
        if (NetworkOffload.TryReadInfo(fields, NetworkOffload.LargeSendInfo, out uint largeSend))
            return LargeSendLocked(frame, largeSend);
        if (length > MaximumFrameBytes)
            return false;
        if (NetworkOffload.TryReadInfo(fields, NetworkOffload.ChecksumInfo, out uint checksum) && checksum != 0)
        {
            Span<byte> copy = _segment.AsSpan(0, frame.Length);
            frame.CopyTo(copy);
            if (!NetworkOffload.CompleteChecksum(copy, checksum))
                return false;
            frame = copy;
        }
        TransmitFrameLocked(frame);
        return true;
    }

    /// <summary>A large send: the segments go out one by one, each a whole frame with its own checksums.</summary>
    private bool LargeSendLocked(ReadOnlySpan<byte> frame, uint info)
    {
        if (!NetworkOffload.TryLargeSend(info, out int mss, out int tcpOffset) || frame.Length > NetworkOffload.MaximumLargeSendBytes + MinimumFrameBytes)
            return false;
        int segments = NetworkOffload.CountSegments(frame, mss, tcpOffset, MaximumFrameBytes);
        if (segments == 0)
            return false;
        for (int i = 0; i < segments; i++)
            TransmitFrameLocked(_segment.AsSpan(0, NetworkOffload.WriteSegment(frame, mss, tcpOffset, i, _segment)));
        return true;
    }

    private void TransmitFrameLocked(ReadOnlySpan<byte> frame)
    {
        if (!_linkUp)
            return; // as a cable pulled out: the frame goes nowhere
        _uplink.Transmit(frame);
        _transmittedFrames++;
        _transmittedBytes += frame.Length;
    }

    private void QueryLocked(IVmBusChannel channel, uint requestId, uint oid)
    {
        Span<byte> info = stackalloc byte[Rndis.OffloadCapabilitiesBytes];
        info.Clear();
        int length = 4;
        uint status = Rndis.StatusSuccess;
        switch (oid)
        {
            case Rndis.OidMaximumFrameSize:
                BinaryPrimitives.WriteUInt32LittleEndian(info, Mtu);
                break;
            case Rndis.OidLinkSpeed:
                BinaryPrimitives.WriteUInt32LittleEndian(info, LinkSpeed);
                break;
            case Rndis.OidMediaConnectStatus:
                BinaryPrimitives.WriteUInt32LittleEndian(info, _linkUp ? 0u : 1u); // NdisMediaStateConnected is 0
                break;
            case Rndis.OidCurrentPacketFilter:
                BinaryPrimitives.WriteUInt32LittleEndian(info, _packetFilter);
                break;
            case Rndis.OidPermanentAddress or Rndis.OidCurrentAddress:
                Address.Write(info);
                length = MacAddress.Bytes;
                break;
            case Rndis.OidOffloadHardwareCapabilities:
                // NDIS 6.0's capabilities: IPv4 TCP and UDP checksums both ways and IPv4 large send v2 (NetworkOffload).
                info[0] = Rndis.OffloadObjectType;
                info[1] = 1;
                BinaryPrimitives.WriteUInt16LittleEndian(info[2..], Rndis.OffloadCapabilitiesBytes);
                BinaryPrimitives.WriteUInt32LittleEndian(info[4..], NetworkOffload.Encapsulation8023); // transmit framing
                BinaryPrimitives.WriteUInt32LittleEndian(info[8..], NetworkOffload.Ipv4Checksums);
                BinaryPrimitives.WriteUInt32LittleEndian(info[12..], NetworkOffload.Encapsulation8023); // receive framing
                BinaryPrimitives.WriteUInt32LittleEndian(info[16..], NetworkOffload.Ipv4Checksums);
                BinaryPrimitives.WriteUInt32LittleEndian(info[80..], NetworkOffload.Encapsulation8023); // large send v2: IPv4 framing, largest, fewest segments
                BinaryPrimitives.WriteUInt32LittleEndian(info[84..], NetworkOffload.MaximumLargeSendBytes);
                BinaryPrimitives.WriteUInt32LittleEndian(info[88..], 2);
                length = Rndis.OffloadCapabilitiesBytes;
                break;
            default:
                // Receive-side scaling, the friendly name, statistics: none here.
                (status, length) = (Rndis.StatusNotSupported, 0);
                break;
        }
        // Request id, status, information length, and its offset from the request id.
        Span<byte> reply = _reply;
        int total = Rndis.HeaderBytes + 16 + length;
        BinaryPrimitives.WriteUInt32LittleEndian(reply, Rndis.Query | Rndis.Completion);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[4..], (uint)total);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[8..], requestId);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[12..], status);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[16..], (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[20..], 16);
        info[..length].CopyTo(reply[24..]);
        SendReplyLocked(channel, reply[..total]);
    }

    /// <summary>SET: the packet filter is kept; offload parameters (all off) and the multicast list are accepted; anything else is not supported.</summary>
    private bool SetLocked(IVmBusChannel channel, uint requestId, ReadOnlySpan<byte> body)
    {
        uint oid = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        uint infoLength = BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
        uint infoOffset = BinaryPrimitives.ReadUInt32LittleEndian(body[12..]);
        if (infoOffset < 20 || infoOffset > (uint)body.Length || infoLength > (uint)body.Length - infoOffset)
        {
            ReplyLocked(channel, Rndis.Set | Rndis.Completion, requestId, Rndis.StatusInvalidData);
            return false;
        }
        ReadOnlySpan<byte> info = body.Slice((int)infoOffset, (int)infoLength);
        uint status = Rndis.StatusSuccess;
        switch (oid)
        {
            case Rndis.OidCurrentPacketFilter when info.Length >= 4:
                _packetFilter = BinaryPrimitives.ReadUInt32LittleEndian(info);
                break;
            case Rndis.OidOffloadParameters when info.Length >= 6:
                // NDIS_OFFLOAD_PARAMETERS: a header, then IPv4's header, TCP and UDP checksum settings (one byte each).
                // The TCP one says whether the guest wants received frames vouched for: 3 receive only, 4 both; 0 no change.
                if (info[5] != 0)
                    _receiveChecksums = info[5] is 3 or 4;
                break;
            case Rndis.OidOffloadParameters or Rndis.OidMulticastList:
                break;
            default:
                status = Rndis.StatusNotSupported;
                break;
        }
        ReplyLocked(channel, Rndis.Set | Rndis.Completion, requestId, status);
        return true;
    }

    /// <summary>A completion or indication of 32-bit fields after its header.</summary>
    private void ReplyLocked(IVmBusChannel channel, uint kind, params ReadOnlySpan<uint> fields)
    {
        Span<byte> reply = _reply;
        int total = Rndis.HeaderBytes + (4 * fields.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(reply, kind);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[4..], (uint)total);
        for (int i = 0; i < fields.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(reply[(Rndis.HeaderBytes + (4 * i))..], fields[i]);
        SendReplyLocked(channel, reply[..total]);
    }

    /// <summary>An answer or indication goes now, after those still waiting for room, or waits itself (a copy); beyond the queue's bound it is dropped and counted.</summary>
    private void SendReplyLocked(IVmBusChannel channel, ReadOnlySpan<byte> reply)
    {
        if (_unsentReplies.Count == 0 && ToGuestLocked(channel, reply, [], reserved: true))
            return;
        if (_unsentReplies.Count < MaxUnsentReplies)
            _unsentReplies.Enqueue(reply.ToArray());
        else
            _receiveDrops++;
    }

    private void SendUnsentRepliesLocked()
    {
        while (_unsentReplies.TryPeek(out byte[]? reply) && _channel is { } channel && ToGuestLocked(channel, reply, [], reserved: true))
            _unsentReplies.Dequeue();
    }

    private void IndicateLocked(uint status)
    {
        if (_channel is { } channel)
            ReplyLocked(channel, Rndis.Indicate, status, 0, 0);
    }

    /// <summary>Whether the guest's packet filter takes a frame for this destination.</summary>
    private bool Wanted(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < MinimumFrameBytes || frame.Length > MaximumFrameBytes)
        {
            _receiveDrops++;
            return false;
        }
        uint filter = _packetFilter;
        if ((filter & Rndis.FilterPromiscuous) != 0)
            return true;
        var destination = MacAddress.Read(frame);
        if (destination.IsBroadcast)
            return (filter & Rndis.FilterBroadcast) != 0;
        if (destination.IsGroup)
            return (filter & (Rndis.FilterMulticast | Rndis.FilterAllMulticast)) != 0;
        return (filter & Rndis.FilterDirected) != 0 && destination == Address;
    }

    /// <summary>One frame as a PACKET message in a receive section.</summary>
    private bool DeliverLocked(ReadOnlySpan<byte> frame)
    {
        if (_detached || !_rndisReady || _channel is not { } channel)
            return false;
        uint checksums = _receiveChecksums ? NetworkOffload.VerifyChecksums(frame) : 0;
        Span<byte> header = stackalloc byte[Rndis.HeaderBytes + Rndis.PacketFieldBytes + ChecksumInfoBytes];
        header.Clear();
        if (checksums == 0)
            header = header[..(Rndis.HeaderBytes + Rndis.PacketFieldBytes)];
        int fieldsAndInfo = header.Length - Rndis.HeaderBytes;
        BinaryPrimitives.WriteUInt32LittleEndian(header, Rndis.Packet);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(header.Length + frame.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)fieldsAndInfo); // the frame follows the packet fields and their information
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)frame.Length);
        if (checksums != 0)
        {
            // One piece of per-packet information after the fields: what the host found of the frame's checksums.
            BinaryPrimitives.WriteUInt32LittleEndian(header[(Rndis.HeaderBytes + 20)..], Rndis.PacketFieldBytes);
            BinaryPrimitives.WriteUInt32LittleEndian(header[(Rndis.HeaderBytes + 24)..], ChecksumInfoBytes);
            Span<byte> info = header[(Rndis.HeaderBytes + Rndis.PacketFieldBytes)..];
            BinaryPrimitives.WriteUInt32LittleEndian(info, ChecksumInfoBytes);
            BinaryPrimitives.WriteUInt32LittleEndian(info[4..], NetworkOffload.ChecksumInfo);
            BinaryPrimitives.WriteUInt32LittleEndian(info[8..], 12);
            BinaryPrimitives.WriteUInt32LittleEndian(info[12..], checksums);
        }
        if (!ToGuestLocked(channel, header, frame, reserved: false))
            return false;
        _receivedFrames++;
        _receivedBytes += frame.Length;
        return true;
    }

    /// <summary>
    /// Writes <paramref name="first"/> and <paramref name="second"/> into a free receive section and
    /// names it to the guest in a transfer-page packet (its transaction id is the buffer's generation
    /// and the section, which the guest's completion brings back); false when there is no buffer, no
    /// free section (that <paramref name="reserved"/> ones may take) or no room in the ring.
    /// </summary>
    private bool ToGuestLocked(IVmBusChannel channel, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, bool reserved)
    {
        if (_receiveBuffer is not { } buffer || _freeCount <= (reserved ? 0 : Math.Min(ReservedSections, _sectionInUse.Length - 1)))
            return false;
        int section = _freeSections[--_freeCount];
        _sectionInUse[section] = true;
        int offset = section * ReceiveSectionBytes;
        buffer.Write(offset, first);
        buffer.Write(offset + first.Length, second);
        // Page set id, sender-owns flag, reserved, one range: its byte count and offset.
        Span<byte> ranges = stackalloc byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(ranges, _receivePageSet);
        BinaryPrimitives.WriteUInt16LittleEndian(ranges[2..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(ranges[4..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(ranges[8..], (uint)(first.Length + second.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(ranges[12..], (uint)offset);
        Span<byte> message = stackalloc byte[16];
        message.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(message, Nvsp.SendRndisPacket);
        BinaryPrimitives.WriteUInt32LittleEndian(message[8..], Nvsp.NoSection);
        ulong transaction = ((ulong)_receiveGeneration << 32) | (uint)section;
        if (channel.TrySend(VmBusPacketType.DataUsingTransferPages, CompletionRequested, transaction, ranges, message))
            return true;
        ReleaseSectionLocked(section);
        return false;
    }

    /// <summary>The guest completed a transfer-page packet: its section is free, unless the id names none in use in this buffer.</summary>
    private void ReleaseLocked(ulong transaction)
    {
        uint section = (uint)transaction;
        if ((uint)(transaction >> 32) != _receiveGeneration || section >= (uint)_sectionInUse.Length || !_sectionInUse[section])
        {
            _malformed++;
            return;
        }
        ReleaseSectionLocked((int)section);
        SendUnsentRepliesLocked();
    }

    private void ReleaseSectionLocked(int section)
    {
        _sectionInUse[section] = false;
        _freeSections[_freeCount++] = section;
    }

    private void TakeSectionLocked(int section)
    {
        if (section < 0 || section >= _sectionInUse.Length || _sectionInUse[section])
            return;
        int at = Array.IndexOf(_freeSections, section, 0, _freeCount);
        _freeSections[at] = _freeSections[--_freeCount];
        _sectionInUse[section] = true;
    }
}
