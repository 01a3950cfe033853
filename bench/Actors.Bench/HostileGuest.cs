using System.Buffers.Binary;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Platform;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;

namespace Actors.Bench;

/// <summary>
/// The fuzzed guest of <c>vmbus-fuzz</c> and the host stack it talks to: 4 MiB of guest memory (2 MiB
/// RAM, then an MMIO hole, so some pages it names are not RAM), two VPs' SynICs with their message
/// and event pages on and SINT 2 unmasked, the VMBus engine with the heartbeat service, and the
/// hypercall dispatcher. Each <see cref="Step"/> is one guest action ending in a hypercall, from a
/// seeded random stream. Calls alternate between two phases of 4096: in one, Linux's own protocol
/// messages, mutated, so the bus gets connected, GPADLs made and the channel opened, and the
/// mutations land on every state; in the other, nothing that resets the bus, so the open channel
/// sees traffic: answers framed as Linux's hv_utils frames them (and then mutated), random ring
/// contents, signals. Both phases also make random calls and consume their messages as Linux does.
/// </summary>
internal sealed class HostileGuest : IDisposable
{
    public const int Processors = 2;

    private const ulong MiB = 1 << 20;
    private const ulong InputGpa = 0x3000;
    private const ulong SynIcPages = 0x1_0000; // VP v: message page at + v * 0x2000, event page after it
    private const int VmBusSint = 2;
    private const ulong RingPfn = 0x100;
    private const int RingPages = 40;
    private const int RingSplit = 20;
    private const uint RingHandle = 0xE1E10;
    private const uint Relid = 1;
    private const ulong Fast = 1UL << 16;
    private const int PhaseCalls = 4096;
    private const ushort InbandPacket = 6; // VM_PKT_DATA_INBAND
    private const int TrailerBytes = 8;

    /// <summary>The guest-to-host ring's header page (data pages follow), then the host-to-guest ring's.</summary>
    public const ulong InboundRing = RingPfn * GuestRam.PageSize;
    public const ulong OutboundRing = (RingPfn + RingSplit) * GuestRam.PageSize;

    private readonly Random _random;
    private readonly GuestRam _ram;
    private readonly SyntheticInterruptController[] _synIcs = new SyntheticInterruptController[Processors];
    private readonly CountingDelivery _delivery = new();
    private readonly CountingGuest _guest;
    private readonly HypercallDispatcher _dispatcher;
    private readonly byte[][] _anyState;
    private readonly byte[][] _openChannel;
    private readonly byte[] _openMessage;

    public HostileGuest(int seed)
    {
        _random = new Random(seed);
        _ram = new GuestRam(4 * MiB);
        Memory = new GuestPhysicalMap(_ram);
        Memory.AddRam("low", 0, 2 * MiB, 0);
        Memory.AddMmio("hole", 2 * MiB, MiB);
        for (int vp = 0; vp < Processors; vp++)
        {
            _synIcs[vp] = new SyntheticInterruptController(Memory, _delivery);
            ulong page = MessagePage(vp);
            _synIcs[vp].TryWriteMsr(HvMsr.Simp, page | 1);
            _synIcs[vp].TryWriteMsr(HvMsr.Siefp, (page + GuestRam.PageSize) | 1);
            _synIcs[vp].TryWriteMsr(HvMsr.Sint0 + VmBusSint, 0xF3 | (1UL << 17)); // vector 0xF3, auto-EOI, as Linux
            _synIcs[vp].TryWriteMsr(HvMsr.SControl, 1);
        }
        _guest = new CountingGuest(_synIcs);
        Heartbeat = new HeartbeatService(new PlatformClock(), () => { });
        Bus = new VmBusProtocol(_guest, Memory, VmBusOffer.IntegrationServices, [Heartbeat]);
        _dispatcher = new HypercallDispatcher(Memory, Bus);
        (_anyState, _openChannel) = LinuxMessages();
        _openMessage = _openChannel[^1];
    }

    public GuestPhysicalMap Memory { get; }

    public VmBusProtocol Bus { get; }

    public HeartbeatService Heartbeat { get; }

    public long Posted => _guest.Posted;

    public long Interrupts => _delivery.Interrupts;

    public long HeartbeatsAnswered { get; private set; }

    public int WaitingMessages => _synIcs.Sum(s => s.WaitingMessages);

    /// <summary>One guest action ending in a hypercall; returns the call's result value.</summary>
    public ulong Step(long call)
    {
        bool channelPhase = call / PhaseCalls % 2 == 1;
        switch (_random.Next(10))
        {
            case < 4:
                return PostLinuxMessage(channelPhase ? _openChannel : _anyState);
            case 4:
                return RandomCall();
            case < 8:
                // Write the inbound ring, as hv_utils answers or as anything, then signal the channel.
                if (channelPhase || _random.Next(2) == 0)
                    AnswerAsHvUtils();
                else
                    ScribbleRing();
                return SignalChannel();
            default:
                ConsumeMessages();
                if (_random.Next(4) == 0)
                    Heartbeat.Beat();
                return SignalChannel();
        }
    }

    /// <summary>One of Linux's messages, a third of them intact so the protocol moves on, the rest with bits flipped.</summary>
    private ulong PostLinuxMessage(byte[][] messages)
    {
        byte[] template = messages[_random.Next(messages.Length)];
        if (ReferenceEquals(template, _openMessage))
        {
            // Linux starts a channel's rings empty: indices and masks zero.
            Memory.Write(InboundRing, new byte[GuestRam.PageSize]);
            Memory.Write(OutboundRing, new byte[GuestRam.PageSize]);
        }
        byte[] message = (byte[])template.Clone();
        for (int flips = _random.Next(3) == 0 ? 0 : _random.Next(1, 4); flips > 0; flips--)
            message[_random.Next(message.Length)] ^= (byte)(1 << _random.Next(8));
        uint connection = _random.Next(16) == 0 ? (uint)_random.Next() : _random.Next(4) == 0 ? VmBusProtocol.ContactConnectionId : VmBusProtocol.MessageConnectionId;
        uint type = _random.Next(16) == 0 ? (uint)_random.Next() : HvMessageType.VmBus;
        uint size = _random.Next(16) == 0 ? (uint)_random.Next(0, 300) : (uint)message.Length;
        Span<byte> block = stackalloc byte[HypercallDispatcher.PostMessageInputBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(block, connection);
        BinaryPrimitives.WriteUInt32LittleEndian(block[8..], type);
        BinaryPrimitives.WriteUInt32LittleEndian(block[12..], size);
        message.AsSpan(0, Math.Min(message.Length, block.Length - 16)).CopyTo(block[16..]);
        Memory.Write(InputGpa, block);
        ulong input = HypercallDispatcher.PostMessage ^ (_random.Next(8) == 0 ? 1UL << _random.Next(64) : 0);
        ulong parameter = _random.Next(16) == 0 ? (ulong)_random.Next(0, (int)(4 * MiB)) : InputGpa;
        return _dispatcher.Call(new HypercallInput(input), parameter, 0);
    }

    private ulong RandomCall()
    {
        Span<byte> block = stackalloc byte[HypercallDispatcher.PostMessageInputBytes];
        _random.NextBytes(block);
        Memory.Write(InputGpa, block);
        ulong parameter = _random.Next(2) == 0 ? InputGpa : (ulong)_random.NextInt64();
        return _dispatcher.Call(new HypercallInput((ulong)_random.NextInt64()), parameter, (ulong)_random.NextInt64());
    }

    private ulong SignalChannel()
    {
        uint connection = _random.Next(8) == 0 ? (uint)_random.Next(0, 0x100) : VmBusProtocol.ChannelConnectionId(Relid);
        ulong value = connection | (_random.Next(8) == 0 ? (ulong)_random.Next() << 32 : 0);
        if (_random.Next(2) == 0)
            return _dispatcher.Call(new HypercallInput(HypercallDispatcher.SignalEvent | Fast), value, 0);
        Memory.WriteValue(InputGpa, value);
        return _dispatcher.Call(new HypercallInput(HypercallDispatcher.SignalEvent), InputGpa, 0);
    }

    /// <summary>
    /// What hv_utils does with the host's next packet: read it from the outbound ring, and answer a
    /// NEGOTIATE by picking framework 3.0 and heartbeat 3.0, a heartbeat with its sequence number
    /// plus one, anything else with random bytes; flagged as a response, sometimes mutated, written
    /// as the only packet of the inbound ring.
    /// </summary>
    private void AnswerAsHvUtils()
    {
        const int Header = IcMessage.BodyOffset;
        Span<byte> request = stackalloc byte[Header + 48];
        request.Clear();
        uint read = Memory.ReadValue<uint>(OutboundRing + 4);
        uint write = Memory.ReadValue<uint>(OutboundRing);
        uint dataBytes = (RingPages - RingSplit - 1) * GuestRam.PageSize;
        bool hostWrote = read != write && read < dataBytes && read % 8 == 0 && read + VmBusRing.DescriptorBytes + request.Length <= dataBytes;
        if (hostWrote)
        {
            Memory.Read(OutboundRing + GuestRam.PageSize + read + VmBusRing.DescriptorBytes, request);
            uint length = Memory.ReadValue<ushort>(OutboundRing + GuestRam.PageSize + read + 4) * 8u;
            Memory.WriteValue(OutboundRing + 4, (read + length + TrailerBytes) % dataBytes); // consumed
        }

        int bodyBytes = _random.Next(40, 64); // a heartbeat's body is 40 bytes
        var packet = new byte[((VmBusRing.DescriptorBytes + Header + bodyBytes + 7) & ~7) + TrailerBytes];
        int packetLength = packet.Length - TrailerBytes;
        BinaryPrimitives.WriteUInt16LittleEndian(packet, InbandPacket);
        BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(2), VmBusRing.DescriptorBytes / 8);
        BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(4), (ushort)(packetLength / 8));
        Span<byte> answer = packet.AsSpan(VmBusRing.DescriptorBytes, Header + bodyBytes);
        _random.NextBytes(answer);
        request[..Header].CopyTo(answer);
        ushort type = hostWrote ? IcMessage.Type(request) : (_random.Next(2) == 0 ? IcMessage.Negotiate : IcMessage.Heartbeat);
        BinaryPrimitives.WriteUInt16LittleEndian(answer[12..], type);
        BinaryPrimitives.WriteUInt32LittleEndian(answer[20..], 0); // status
        answer[25] = IcMessage.Transaction | IcMessage.Response;
        Span<byte> body = answer[Header..];
        if (type == IcMessage.Negotiate)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(body, 1); // one framework version
            BinaryPrimitives.WriteUInt16LittleEndian(body[2..], 1); // one service version
            BinaryPrimitives.WriteUInt32LittleEndian(body[8..], 3); // framework 3.0: major 3, minor 0
            BinaryPrimitives.WriteUInt32LittleEndian(body[12..], 3); // heartbeat 3.0
        }
        else if (type == IcMessage.Heartbeat && hostWrote)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(body, BinaryPrimitives.ReadUInt64LittleEndian(request[Header..]) + 1);
            HeartbeatsAnswered++;
        }
        if (_random.Next(4) == 0)
            packet[_random.Next(packet.Length)] ^= (byte)(1 << _random.Next(8));
        Memory.Write(InboundRing + GuestRam.PageSize, packet);
        Memory.WriteValue(InboundRing + 4, 0u); // read index
        Memory.WriteValue(InboundRing, (uint)packet.Length); // write index
    }

    /// <summary>Random bytes somewhere in the ring GPADL's pages: headers, indices, data.</summary>
    private void ScribbleRing()
    {
        int page = _random.Next(2) == 0 ? _random.Next(2) * RingSplit : _random.Next(RingPages);
        ulong gpa = ((RingPfn + (ulong)page) * GuestRam.PageSize) + (ulong)_random.Next(0, GuestRam.PageSize - 16);
        Span<byte> bytes = stackalloc byte[_random.Next(1, 17)];
        _random.NextBytes(bytes);
        Memory.Write(gpa, bytes);
    }

    /// <summary>Empties a VP's VMBus slot as Linux does (type cleared, EOM if a message is pending; sometimes EOM anyway) and sometimes its event flags.</summary>
    private void ConsumeMessages()
    {
        int vp = _random.Next(Processors);
        ulong slot = MessagePage(vp) + (VmBusSint * 256);
        bool pending = (Memory.ReadValue<byte>(slot + 5) & 1) != 0;
        Memory.WriteValue(slot, 0u);
        if (pending || _random.Next(4) == 0)
            _synIcs[vp].TryWriteMsr(HvMsr.Eom, 0);
        if (_random.Next(4) == 0)
            Memory.Write(MessagePage(vp) + GuestRam.PageSize, new byte[GuestRam.PageSize]);
    }

    private static ulong MessagePage(int vp) => SynIcPages + ((ulong)vp * 2 * GuestRam.PageSize);

    /// <summary>
    /// What Linux's hv_vmbus posts, in the layouts of Linux's vmbus_channel_* structures: all of
    /// them, and the ones that leave an open channel open (no contact, close, teardown or unload).
    /// </summary>
    private static (byte[][] AnyState, byte[][] OpenChannel) LinuxMessages()
    {
        static byte[] Message(VmBusMessageType type, int bytes)
        {
            var m = new byte[bytes];
            BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)type);
            return m;
        }

        static byte[] Contact(uint version, uint vp)
        {
            byte[] m = Message(VmBusMessageType.InitiateContact, 40);
            BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), version);
            BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(12), vp);
            m[16] = VmBusSint;
            return m;
        }

        const int InHeader = 26;
        byte[] gpadlHeader = Message(VmBusMessageType.GpadlHeader, 28 + (8 * InHeader));
        BinaryPrimitives.WriteUInt32LittleEndian(gpadlHeader.AsSpan(8), Relid);
        BinaryPrimitives.WriteUInt32LittleEndian(gpadlHeader.AsSpan(12), RingHandle);
        BinaryPrimitives.WriteUInt16LittleEndian(gpadlHeader.AsSpan(16), 8 + (8 * RingPages));
        BinaryPrimitives.WriteUInt16LittleEndian(gpadlHeader.AsSpan(18), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(gpadlHeader.AsSpan(20), RingPages * GuestRam.PageSize);
        for (int i = 0; i < InHeader; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(gpadlHeader.AsSpan(28 + (8 * i)), RingPfn + (ulong)i);

        byte[] gpadlBody = Message(VmBusMessageType.GpadlBody, 16 + (8 * (RingPages - InHeader)));
        BinaryPrimitives.WriteUInt32LittleEndian(gpadlBody.AsSpan(12), RingHandle);
        for (int i = InHeader; i < RingPages; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(gpadlBody.AsSpan(16 + (8 * (i - InHeader))), RingPfn + (ulong)i);

        byte[] open = Message(VmBusMessageType.OpenChannel, 148);
        BinaryPrimitives.WriteUInt32LittleEndian(open.AsSpan(8), Relid);
        BinaryPrimitives.WriteUInt32LittleEndian(open.AsSpan(12), Relid);
        BinaryPrimitives.WriteUInt32LittleEndian(open.AsSpan(16), RingHandle);
        BinaryPrimitives.WriteUInt32LittleEndian(open.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(open.AsSpan(24), RingSplit);

        byte[] close = Message(VmBusMessageType.CloseChannel, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(close.AsSpan(8), Relid);
        byte[] teardown = Message(VmBusMessageType.GpadlTeardown, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(teardown.AsSpan(8), Relid);
        BinaryPrimitives.WriteUInt32LittleEndian(teardown.AsSpan(12), RingHandle);
        byte[] requestOffers = Message(VmBusMessageType.RequestOffers, 8);

        byte[][] keepsOpen = [requestOffers, gpadlHeader, gpadlBody, open]; // OPENCHANNEL last: the caller finds it there
        return ([Contact(0x0005_0000, 0), Contact(0x0005_0000, 1), Contact(0x0005_0003, 0), close, teardown, Message(VmBusMessageType.Unload, 8), .. keepsOpen, gpadlHeader, gpadlBody, open], keepsOpen);
    }

    public void Dispose() => _ram.Dispose();

    /// <summary>VMBus's way into the two SynICs, as a VM's is, counting what it posts.</summary>
    private sealed class CountingGuest(SyntheticInterruptController[] synIcs) : IVmBusGuest
    {
        public long Posted { get; private set; }

        public int ProcessorCount => synIcs.Length;

        public bool PostMessage(uint vp, int sint, ReadOnlySpan<byte> message)
        {
            bool posted = vp < (uint)synIcs.Length && synIcs[vp].TryPostMessage(sint, HvMessageType.VmBus, sender: 0, message);
            if (posted)
                Posted++;
            return posted;
        }

        public void SignalChannel(uint vp, int sint, uint relid)
        {
            if (vp < (uint)synIcs.Length && relid < SyntheticInterruptController.SlotBytes * 8)
                synIcs[vp].SignalEvent(sint, (int)relid);
        }
    }

    /// <summary>The local APICs' stand-in: counts the SINT interrupts raised.</summary>
    private sealed class CountingDelivery : ISintDelivery
    {
        public long Interrupts { get; private set; }

        public void Deliver(byte vector) => Interrupts++;

        public void SetAutoEoiVectors(ReadOnlySpan<ulong> vectors)
        {
        }
    }
}
