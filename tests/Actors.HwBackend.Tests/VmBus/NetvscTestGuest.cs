using System.Buffers.Binary;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Network;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.Network;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

/// <summary>
/// hv_netvsc's side of a network VSP's channel, played by the test: the two rings, a receive and a
/// send buffer lent through GPADLs, and pages for frames sent by page ranges, all in guest RAM,
/// with an MMIO hole right after it. It writes NVSP packets into the guest-to-host ring, signals
/// the VSP, and reads what the host wrote back. Every host action is watched through the dirty
/// log: the host may write only the host-to-guest ring, the guest-to-host ring's header (its read
/// index) and the receive buffer.
/// </summary>
internal sealed class NetvscTestGuest : IDisposable
{
    public const uint Relid = 7;
    public const uint ReceiveGpadl = 0xE100, SendGpadl = 0xE101;
    public const ushort ReceivePageSet = 0xCAFE; // NETVSC_RECEIVE_BUFFER_ID
    public const int ReceivePages = 64, SendPages = 16;
    public const int ReceiveBytes = ReceivePages * 4096, SendBytes = SendPages * 4096;
    public const int ReceiveSections = ReceiveBytes / NetworkVsp.ReceiveSectionBytes;
    public const int SendSections = SendBytes / NetworkVsp.SendSectionBytes;
    public const uint NoSection = 0xFFFF_FFFF;

    /// <summary>Pages the tests put frames in for GPA-direct packets: DataPage to DataPage + 127.</summary>
    public const ulong DataPage = 0x400;
    public const ulong RamPages = 0x800, HolePage = RamPages; // RAM ends, and an MMIO hole starts, at 8 MiB

    // NVSP message types.
    public const uint Init = 1, InitComplete = 2, SendNdisVersion = 100, SendReceiveBuffer = 101, SendReceiveBufferComplete = 102;
    public const uint RevokeReceiveBuffer = 103, SendSendBuffer = 104, SendSendBufferComplete = 105, RevokeSendBuffer = 106;
    public const uint SendRndisPacket = 107, SendRndisPacketComplete = 108, SendNdisConfig = 125;

    // RNDIS message types and the objects the tests use.
    public const uint RndisPacket = 1, RndisInit = 2, RndisHalt = 3, RndisQuery = 4, RndisSet = 5, RndisReset = 6, RndisIndicate = 7, RndisKeepAlive = 8;
    public const uint RndisCompletion = 0x8000_0000;
    public const uint OidMaximumFrameSize = 0x0001_0106, OidLinkSpeed = 0x0001_0107, OidPacketFilter = 0x0001_010E;
    public const uint OidMediaConnectStatus = 0x0001_0114, OidReceiveScaleCapabilities = 0x0001_0203, OidPermanentAddress = 0x0101_0101;
    public const uint OidOffloadParameters = 0xFC01_020C, OidOffloadCapabilities = 0xFC01_020D;
    public const uint FilterDirected = 0x1, FilterMulticast = 0x2, FilterBroadcast = 0x8, FilterPromiscuous = 0x20;

    public static readonly MacAddress Mac = new(0x00155D_123456);

    private const ulong ToHostRing = 0x100, ToGuestRing = 0x180; // page numbers: a header page, then the data pages
    private const int ToHostDataPages = 8;

    private readonly GuestRam _ram = new(RamPages * 4096);
    private readonly VmBusRing _guestWrites, _guestReads;
    private readonly ulong[] _toHost, _toGuest;
    private readonly bool[] _hostMayWrite = new bool[RamPages];
    private readonly ulong[] _dirty;
    private readonly byte[] _packet = new byte[16 * 1024];
    private ulong _transaction = 0x1000;
    private uint _requestId = 100;

    /// <param name="toGuestDataPages">The host-to-guest ring's data pages (a small ring fills before the receive sections run out).</param>
    public NetvscTestGuest(int toGuestDataPages = 8)
    {
        Memory = new GuestPhysicalMap(_ram);
        Memory.AddRam("low", 0, RamPages * 4096, 0);
        Memory.AddMmio("hole", HolePage * 4096, 0x100 * 4096);
        _toHost = [.. Enumerable.Range((int)ToHostRing, 1 + ToHostDataPages).Select(p => (ulong)p)];
        _toGuest = [.. Enumerable.Range((int)ToGuestRing, 1 + toGuestDataPages).Select(p => (ulong)p)];
        _guestWrites = new VmBusRing(Memory, _toHost);
        _guestReads = new VmBusRing(Memory, _toGuest);
        Channel = NewChannel();
        _dirty = new ulong[Memory.DirtyLog.WordCount];

        // The receive buffer on every other page, so that its sections cross pages that are not adjacent.
        ReceiveBufferPages = [.. Enumerable.Range(0, ReceivePages).Select(i => 0x200 + (2 * (ulong)i))];
        SendBufferPages = [.. Enumerable.Range(0x300, SendPages).Select(p => (ulong)p)];
        Lend(ReceiveGpadl, ReceiveBufferPages);
        Lend(SendGpadl, SendBufferPages);
        foreach (ulong page in _toGuest.Append(ToHostRing).Concat(ReceiveBufferPages))
            _hostMayWrite[page] = true;

        Vsp = new NetworkVsp(Memory, Mac, Uplink);
        Vsp.Opened(Channel);
    }

    public GuestPhysicalMap Memory { get; }

    public VmBusChannel Channel { get; private set; }

    public NetworkVsp Vsp { get; private set; }

    public RecordingUplink Uplink { get; } = new();

    /// <summary>The GPADLs the guest has lent, by handle, as the bus would find them.</summary>
    public Dictionary<uint, Gpadl> Gpadls { get; } = [];

    public ulong[] ReceiveBufferPages { get; }

    public ulong[] SendBufferPages { get; }

    public void Dispose() => _ram.Dispose();

    /// <summary>Makes (or replaces) a complete GPADL for this channel.</summary>
    public void Lend(uint handle, ulong[] pages, uint? byteCount = null, uint byteOffset = 0, uint channelId = Relid) =>
        Gpadls[handle] = new Gpadl(handle, channelId, byteCount ?? (uint)(pages.Length * 4096), byteOffset, pages, pages.Length);

    /// <summary>The machine moves: the old VSP is detached, and a new one on a new channel over the same rings takes <paramref name="state"/>.</summary>
    public void MoveTo(NetworkVspState state)
    {
        Vsp.Detach();
        Channel = NewChannel();
        Vsp = new NetworkVsp(Memory, Mac, Uplink);
        Vsp.RestoreState(state);
        Vsp.Opened(Channel);
    }

    /// <summary>The guest closes the channel and opens it again, after which it must negotiate from the start.</summary>
    public void Reopen()
    {
        Vsp.Closed();
        Vsp.Opened(Channel);
    }

    private VmBusChannel NewChannel() =>
        new(Relid, 0, 2, new VmBusRing(Memory, _toHost), new VmBusRing(Memory, _toGuest), new SignalCounter(), handle => Gpadls.GetValueOrDefault(handle));

    // ---- Packets both ways ----

    /// <summary>Writes one packet into the guest-to-host ring and signals the VSP, watching what the host writes.</summary>
    public void Post(VmBusPacketType type, ushort flags, ulong transaction, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        Assert.True(_guestWrites.TryWrite((ushort)type, flags, transaction, header, data, out _), "room in the guest-to-host ring");
        StartWatching();
        Vsp.Signalled(Channel);
        CheckHostWrites();
    }

    /// <summary>An in-band message that asks for no answer.</summary>
    public void Post(byte[] message) => Post(VmBusPacketType.DataInband, 0, ++_transaction, [], message);

    /// <summary>Every packet the host has written for the guest, oldest first.</summary>
    public List<HostPacket> Drain()
    {
        var packets = new List<HostPacket>();
        int length;
        while ((length = _guestReads.TryRead(_packet)) > 0)
            packets.Add(HostPacket.Parse(_packet.AsSpan(0, length)));
        Assert.Equal(0, length);
        return packets;
    }

    /// <summary>An in-band request with the completion flag, as netvsc's control messages go; returns the completion's message.</summary>
    public HostPacket Request(byte[] message)
    {
        ulong transaction = ++_transaction;
        Post(VmBusPacketType.DataInband, 1, transaction, [], message);
        HostPacket answer = Assert.Single(Drain());
        Assert.Equal((VmBusPacketType.Completion, transaction), (answer.Type, answer.Transaction));
        return answer;
    }

    /// <summary>What netvsc's receive path does with a transfer-page packet it has taken: completes it, freeing its section.</summary>
    public void Complete(ulong transaction, uint type = SendRndisPacketComplete, uint status = 1)
    {
        byte[] message = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(message, type);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(4), status);
        Post(VmBusPacketType.Completion, 0, transaction, [], message);
    }

    /// <summary>The RNDIS message a transfer-page packet names, read out of the receive buffer.</summary>
    public byte[] Read(HostPacket transfer)
    {
        Assert.Equal(VmBusPacketType.DataUsingTransferPages, transfer.Type);
        Assert.Equal(1, transfer.Flags); // the guest is to complete it
        Assert.Equal((ReceivePageSet, 1u), (transfer.PageSet, transfer.RangeCount));
        Assert.Equal((SendRndisPacket, NoSection), (transfer.Word(0), transfer.Word(2)));
        (int count, int offset) = transfer.Range(0);
        Assert.True(offset % NetworkVsp.ReceiveSectionBytes == 0 && count <= NetworkVsp.ReceiveSectionBytes && offset + count <= ReceiveBytes,
            $"{count} bytes at {offset}: not within one section of the receive buffer");
        byte[] message = new byte[count];
        LentBuffer.From(Memory, Gpadls[ReceiveGpadl])!.Read(offset, message);
        return message;
    }

    /// <summary>Gives the VSP frames from the switch, watching what it writes; returns how many it took.</summary>
    public int Deliver(params byte[][] frames)
    {
        StartWatching();
        int delivered = Vsp.Deliver([.. frames.SelectMany(f => f)], [.. frames.Select(f => f.Length)]);
        CheckHostWrites();
        return delivered;
    }

    public void SetLink(bool up)
    {
        StartWatching();
        Vsp.SetLink(up);
        CheckHostWrites();
    }

    private void StartWatching() => Memory.DirtyLog.FetchAndClear(_dirty);

    private void CheckHostWrites()
    {
        Memory.DirtyLog.FetchAndClear(_dirty);
        for (int word = 0; word < _dirty.Length; word++)
        {
            for (ulong bits = _dirty[word]; bits != 0; bits &= bits - 1)
            {
                int page = (word * 64) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                Assert.True(_hostMayWrite[page], $"the host wrote page 0x{page:x}, which is neither a ring nor the receive buffer");
            }
        }
    }

    // ---- What netvsc sends ----

    /// <summary>An NVSP message: its type, then 32-bit fields, 40 bytes in all.</summary>
    public static byte[] Nvsp(uint type, params uint[] fields)
    {
        byte[] message = new byte[40];
        BinaryPrimitives.WriteUInt32LittleEndian(message, type);
        for (int i = 0; i < fields.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(4 + (4 * i)), fields[i]);
        return message;
    }

    /// <summary>What netvsc_connect_vsp does: version 6.1, its NDIS config and version, then the receive and send buffers.</summary>
    public void Handshake()
    {
        HostPacket init = Request(Nvsp(Init, 0x60001, 0x60001));
        Assert.Equal((InitComplete, 0x60001u, 1u), (init.Word(0), init.Word(1), init.Word(3)));
        Post(Nvsp(SendNdisConfig, 1514, 0, 0));
        Post(Nvsp(SendNdisVersion, 6, 30));
        Assert.Equal(1u, Request(Nvsp(SendReceiveBuffer, ReceiveGpadl, ReceivePageSet)).Word(1));
        Assert.Equal(1u, Request(Nvsp(SendSendBuffer, SendGpadl, 0)).Word(1));
    }

    /// <summary>What rndis_filter_device_add does first: RNDIS INIT, then the packet filter it is to run with.</summary>
    public void InitialiseRndis(uint filter)
    {
        Sent init = SendInSection(0, GuestRndis.Init(NextRequestId()));
        Assert.Equal(1u, init.Status);
        Assert.Equal(RndisInit | RndisCompletion, Word(Assert.Single(init.Messages), 0));
        SetFilter(filter);
    }

    public void SetFilter(uint filter)
    {
        uint id = NextRequestId();
        Sent set = SendInSection(0, GuestRndis.Set(id, OidPacketFilter, BitConverter.GetBytes(filter)));
        Assert.Equal(1u, set.Status);
        byte[] completion = Assert.Single(set.Messages);
        Assert.Equal((RndisSet | RndisCompletion, 16u, id, 0u), (Word(completion, 0), Word(completion, 4), Word(completion, 8), Word(completion, 12)));
    }

    public uint NextRequestId() => ++_requestId;

    /// <summary>Copies <paramref name="bytes"/> into a send-buffer section, as netvsc_copy_to_send_buf does.</summary>
    public void WriteSendSection(int section, ReadOnlySpan<byte> bytes) =>
        LentBuffer.From(Memory, Gpadls[SendGpadl])!.Write(section * NetworkVsp.SendSectionBytes, bytes);

    /// <summary>RNDIS messages in a send-buffer section, sent in-band (netvsc's way for everything that fits a section).</summary>
    public Sent SendInSection(int section, byte[] rndis, bool complete = true)
    {
        WriteSendSection(section, rndis);
        return SendRndis(VmBusPacketType.DataInband, [], (uint)section, (uint)rndis.Length, complete);
    }

    /// <summary>
    /// A SEND_RNDIS_PACKET with the completion flag; reads the transfer-page packets the host wrote
    /// before its completion (completing each, as netvsc does, unless told not to) and the completion's status.
    /// </summary>
    public Sent SendRndis(VmBusPacketType type, ReadOnlySpan<byte> ranges, uint section, uint sectionBytes, bool complete = true)
    {
        ulong transaction = ++_transaction;
        Post(type, 1, transaction, ranges, Nvsp(SendRndisPacket, 0, section, sectionBytes));
        List<HostPacket> packets = Drain();
        Assert.NotEmpty(packets);
        HostPacket completion = packets[^1];
        Assert.Equal((VmBusPacketType.Completion, transaction, SendRndisPacketComplete), (completion.Type, completion.Transaction, completion.Word(0)));
        List<HostPacket> transfers = packets[..^1];
        List<byte[]> messages = [.. transfers.Select(Read)];
        if (complete)
        {
            foreach (HostPacket transfer in transfers)
                Complete(transfer.Transaction);
        }
        return new Sent(completion.Word(1), transfers, messages);
    }

    /// <summary>A GPA-direct packet's ranges: a reserved word, the count, then each range's length, offset and pages.</summary>
    public static byte[] Ranges(params (int Length, int Offset, ulong[] Pages)[] ranges)
    {
        byte[] header = new byte[8 + ranges.Sum(r => 8 + (8 * r.Pages.Length))];
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)ranges.Length);
        int at = 8;
        foreach ((int length, int offset, ulong[] pages) in ranges)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at), (uint)length);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at + 4), (uint)offset);
            at += 8;
            foreach (ulong page in pages)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(at), page);
                at += 8;
            }
        }
        return header;
    }

    public static uint Word(ReadOnlySpan<byte> bytes, int at) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]);

    /// <summary>What a SEND_RNDIS_PACKET brought: its completion's status, and the RNDIS messages the host wrote for the guest meanwhile.</summary>
    public sealed record Sent(uint Status, List<HostPacket> Transfers, List<byte[]> Messages);

    /// <summary>A packet in the host-to-guest ring: the descriptor's fields, what lies between it and the data, and the data.</summary>
    public sealed record HostPacket(VmBusPacketType Type, ushort Flags, ulong Transaction, byte[] Header, byte[] Data)
    {
        public static HostPacket Parse(ReadOnlySpan<byte> packet)
        {
            int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(packet[2..]) * 8;
            return new HostPacket((VmBusPacketType)BinaryPrimitives.ReadUInt16LittleEndian(packet), BinaryPrimitives.ReadUInt16LittleEndian(packet[6..]),
                BinaryPrimitives.ReadUInt64LittleEndian(packet[8..]), packet[16..dataOffset].ToArray(), packet[dataOffset..].ToArray());
        }

        /// <summary>The data's <paramref name="index"/>th 32-bit word (the NVSP message type is word 0).</summary>
        public uint Word(int index) => NetvscTestGuest.Word(Data, 4 * index);

        // A transfer-page packet's page set, range count and ranges.
        public ushort PageSet => BinaryPrimitives.ReadUInt16LittleEndian(Header);

        public uint RangeCount => NetvscTestGuest.Word(Header, 4);

        public (int Count, int Offset) Range(int index) => ((int)NetvscTestGuest.Word(Header, 8 + (8 * index)), (int)NetvscTestGuest.Word(Header, 12 + (8 * index)));
    }

    /// <summary>RNDIS messages as rndis_filter builds them: type, whole length, then the fields.</summary>
    public static class GuestRndis
    {
        public static byte[] Message(uint type, ReadOnlySpan<uint> fields, ReadOnlySpan<byte> tail = default)
        {
            byte[] message = new byte[8 + (4 * fields.Length) + tail.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(message, type);
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(4), (uint)message.Length);
            for (int i = 0; i < fields.Length; i++)
                BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8 + (4 * i)), fields[i]);
            tail.CopyTo(message.AsSpan(8 + (4 * fields.Length)));
            return message;
        }

        /// <summary>INITIALIZE: request id, version 1.0, the largest transfer netvsc takes.</summary>
        public static byte[] Init(uint id) => Message(RndisInit, [id, 1, 0, 0x4000]);

        /// <summary>QUERY: request id, object, and information (none here) at 20 bytes from the request id.</summary>
        public static byte[] Query(uint id, uint oid) => Message(RndisQuery, [id, oid, 0, 20, 0]);

        public static byte[] Set(uint id, uint oid, ReadOnlySpan<byte> info) => Message(RndisSet, [id, oid, (uint)info.Length, 20, 0], info);

        public static byte[] KeepAlive(uint id) => Message(RndisKeepAlive, [id]);

        public static byte[] Reset() => Message(RndisReset, [0]);

        public static byte[] Halt(uint id) => Message(RndisHalt, [id]);

        /// <summary>
        /// PACKET: the frame right after the 36 bytes of fields; with <paramref name="align"/>, the
        /// message's length is padded as netvsc pads a message that another follows in its section.
        /// </summary>
        public static byte[] Packet(ReadOnlySpan<byte> frame, int align = 1)
        {
            byte[] message = Message(RndisPacket, [36, (uint)frame.Length, 0, 0, 0, 0, 0, 0, 0], frame);
            int padded = (message.Length + align - 1) / align * align;
            Array.Resize(ref message, padded);
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(4), (uint)padded);
            return message;
        }

        /// <summary>PACKET with one piece of per-packet information (type and 32-bit value) between the fields and the frame, as netvsc puts its checksum and large-send requests.</summary>
        public static byte[] PacketWithInfo(ReadOnlySpan<byte> frame, uint infoType, uint infoValue)
        {
            byte[] info = new byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(info, 16);
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(4), infoType);
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(8), 12);
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(12), infoValue);
            return Message(RndisPacket, [36 + 16, (uint)frame.Length, 0, 0, 0, 36, 16, 0, 0], [.. info, .. frame]);
        }
    }

    /// <summary>The adapter's port on a switch: keeps every frame the guest sent.</summary>
    public sealed class RecordingUplink : INetworkUplink
    {
        public List<byte[]> Frames { get; } = [];

        public void Transmit(ReadOnlySpan<byte> frame) => Frames.Add(frame.ToArray());
    }
}
