using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Platform;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;

namespace Actors.Bench;

/// <summary>
/// <c>vmbus-fuzz</c>: the guest-facing parsers of an enlightened partition fed hostile input for
/// as long as asked, far longer than the test suite's seeded 100,000 calls. A hostile guest's
/// hypercalls go through the real stack: the dispatcher reads them from guest memory, the VMBus
/// engine answers into two VPs' SynICs, and the heartbeat service reads the channel ring the guest
/// writes. Half the calls are Linux's own messages mutated (so the bus gets connected, GPADLs made
/// and channels opened, and the mutations land on deep states), the rest random calls, channel
/// signals over random or well-framed ring contents, and the guest's side of consuming messages.
/// After every call: no exception escaped, the result is a TLFS status, the SynICs hold bounded
/// messages, and the bus's state is one a snapshot could restore.
/// </summary>
internal static class VmBusFuzz
{
    private const ulong MiB = 1 << 20;
    private const ulong InputGpa = 0x3000;
    private const ulong SynIcPages = 0x1_0000; // VP v: message page at + v * 0x2000, event page after it
    private const int Processors = 2;
    private const int VmBusSint = 2;
    private const ulong RingPfn = 0x100;
    private const int RingPages = 40;
    private const int RingSplit = 20;
    private const uint RingHandle = 0xE1E10;
    private const uint Relid = 1;
    private const ulong Fast = 1UL << 16;

    public static int Run(VmBusFuzzOptions options)
    {
        int seed = options.Seed ?? Random.Shared.Next();
        var random = new Random(seed);
        Console.WriteLine($"vmbus-fuzz: seed {seed}, {options.Seconds} s: hypercalls through the dispatcher, the VMBus engine, two VPs' SynICs and the heartbeat's ring");

        using var ram = new GuestRam(4 * MiB);
        var memory = new GuestPhysicalMap(ram);
        memory.AddRam("low", 0, 2 * MiB, 0);
        memory.AddMmio("hole", 2 * MiB, MiB); // so some pages the guest names are not RAM
        var delivery = new CountingSintDelivery();
        var synIcs = new SyntheticInterruptController[Processors];
        for (int vp = 0; vp < Processors; vp++)
        {
            synIcs[vp] = new SyntheticInterruptController(memory, delivery);
            ulong page = SynIcPages + ((ulong)vp * 0x2000);
            synIcs[vp].TryWriteMsr(HvMsr.Simp, page | 1);
            synIcs[vp].TryWriteMsr(HvMsr.Siefp, (page + 0x1000) | 1);
            synIcs[vp].TryWriteMsr(HvMsr.Sint0 + VmBusSint, 0xF3 | (1UL << 17));
            synIcs[vp].TryWriteMsr(HvMsr.SControl, 1);
        }
        var guest = new SynIcGuest(synIcs);
        var heartbeat = new HeartbeatService(new PlatformClock(), () => { });
        var bus = new VmBusProtocol(guest, memory, VmBusOffer.IntegrationServices, [heartbeat]);
        var dispatcher = new HypercallDispatcher(memory, bus);
        byte[][] linuxMessages = LinuxMessages();
        var statuses = new Dictionary<HvStatus, long>();
        long calls = 0, opens = 0, negotiations = 0, callsOpen = 0;
        bool wasOpen = false, wasNegotiated = false;
        using var otherVp = new RingRewriter(memory, seed);
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(options.Seconds);
        try
        {
            while ((calls & 1023) != 0 || clock.Elapsed < deadline)
            {
                ulong result = Step(random, memory, dispatcher, synIcs, heartbeat, linuxMessages);
                calls++;
                var status = (HvStatus)(ushort)result;
                if ((result >> 16) != 0 || !Enum.IsDefined(status))
                    return Fail(seed, calls, $"result 0x{result:x} is not a TLFS status of a simple call");
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                if (synIcs.Any(s => s.WaitingMessages > SyntheticInterruptController.SintCount * SyntheticInterruptController.MaxWaitingPerSint))
                    return Fail(seed, calls, "a SynIC holds more waiting messages than its bound");
                // Coverage: how often the mutations got the heartbeat channel opened and its versions agreed.
                bool open = heartbeat.Open, negotiated = heartbeat.Negotiated;
                opens += open && !wasOpen ? 1 : 0;
                negotiations += negotiated && !wasNegotiated ? 1 : 0;
                callsOpen += open ? 1 : 0;
                (wasOpen, wasNegotiated) = (open, negotiated);
                if ((calls & 63) == 0 && bus.FindRestoreProblem(bus.State) is { } problem)
                    return Fail(seed, calls, $"the bus's own state would not restore: {problem}");
            }
        }
        catch (Exception e)
        {
            return Fail(seed, calls, $"{e.GetType().Name} escaped: {e.Message}\n{e.StackTrace}");
        }

        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"vmbus-fuzz: {calls} hypercalls in {seconds:F1} s ({calls / seconds:F0} per second), no exception escaped; statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value}"))}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"vmbus-fuzz: {guest.Posted} messages answered into the SynICs, {bus.Dropped} guest messages dropped, {delivery.Interrupts} SINT interrupts; the heartbeat channel opened {opens} times (open during {100.0 * callsOpen / calls:F0}% of calls), versions agreed {negotiations} times"));
        return 0;
    }

    private static int Fail(int seed, long calls, string what)
    {
        Console.WriteLine($"vmbus-fuzz: FAILED at call {calls + 1} of seed {seed} (replay with --seed {seed}): {what}");
        return 1;
    }

    /// <summary>One hostile guest action ending in a hypercall; returns the call's result value.</summary>
    private static ulong Step(Random random, GuestPhysicalMap memory, HypercallDispatcher dispatcher, SyntheticInterruptController[] synIcs, HeartbeatService heartbeat, byte[][] linuxMessages)
    {
        switch (random.Next(10))
        {
            case < 5:
                {
                    // Linux's messages, a third of them intact so the protocol moves on, the rest with bits flipped.
                    byte[] message = (byte[])linuxMessages[random.Next(linuxMessages.Length)].Clone();
                    for (int flips = random.Next(3) == 0 ? 0 : random.Next(1, 4); flips > 0; flips--)
                        message[random.Next(message.Length)] ^= (byte)(1 << random.Next(8));
                    uint connection = random.Next(8) == 0 ? (uint)random.Next() : random.Next(2) == 0 ? VmBusProtocol.ContactConnectionId : VmBusProtocol.MessageConnectionId;
                    uint type = random.Next(16) == 0 ? (uint)random.Next() : HvMessageType.VmBus;
                    uint size = random.Next(16) == 0 ? (uint)random.Next(0, 300) : (uint)message.Length;
                    WriteInputBlock(memory, connection, type, size, message);
                    ulong input = HypercallDispatcher.PostMessage ^ (random.Next(8) == 0 ? 1UL << random.Next(64) : 0);
                    ulong parameter = random.Next(16) == 0 ? (ulong)random.Next(0, (int)(4 * MiB)) : InputGpa;
                    return dispatcher.Call(new HypercallInput(input), parameter, 0);
                }
            case 5:
                {
                    Span<byte> block = stackalloc byte[HypercallDispatcher.PostMessageInputBytes];
                    random.NextBytes(block);
                    memory.Write(InputGpa, block);
                    ulong parameter = random.Next(2) == 0 ? InputGpa : (ulong)random.NextInt64();
                    return dispatcher.Call(new HypercallInput((ulong)random.NextInt64()), parameter, (ulong)random.NextInt64());
                }
            case < 8:
                {
                    // The guest writes the channel's inbound ring (a framed heartbeat answer, or anything) and signals it.
                    if (random.Next(2) == 0)
                        WriteInboundPacket(random, memory);
                    else
                        ScribbleRing(random, memory);
                    uint connection = random.Next(8) == 0 ? (uint)random.Next(0, 0x100) : VmBusProtocol.ChannelConnectionId(Relid);
                    ulong value = connection | (random.Next(8) == 0 ? (ulong)random.Next() << 32 : 0);
                    if (random.Next(2) == 0)
                        return dispatcher.Call(new HypercallInput(HypercallDispatcher.SignalEvent | Fast), value, 0);
                    memory.WriteValue(InputGpa, value);
                    return dispatcher.Call(new HypercallInput(HypercallDispatcher.SignalEvent), InputGpa, 0);
                }
            default:
                {
                    // The guest's side: empty a VP's VMBus slot as Linux does (type cleared, EOM if pending), clear
                    // its event flags, or let the host beat; then make a call to report on.
                    int vp = random.Next(Processors);
                    ulong slot = SynIcPages + ((ulong)vp * 0x2000) + (VmBusSint * 256);
                    bool pending = (memory.ReadValue<byte>(slot + 5) & 1) != 0;
                    memory.WriteValue(slot, 0u);
                    if (pending || random.Next(4) == 0)
                        synIcs[vp].TryWriteMsr(HvMsr.Eom, 0);
                    if (random.Next(4) == 0)
                        memory.Write(SynIcPages + ((ulong)vp * 0x2000) + 0x1000, new byte[GuestRam.PageSize]);
                    if (random.Next(4) == 0)
                        heartbeat.Beat();
                    return dispatcher.Call(new HypercallInput(HypercallDispatcher.SignalEvent | Fast), (ulong)random.Next(0, 0x40), 0);
                }
        }
    }

    private static void WriteInputBlock(GuestPhysicalMap memory, uint connection, uint type, uint size, byte[] payload)
    {
        Span<byte> block = stackalloc byte[HypercallDispatcher.PostMessageInputBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(block, connection);
        BinaryPrimitives.WriteUInt32LittleEndian(block[8..], type);
        BinaryPrimitives.WriteUInt32LittleEndian(block[12..], size);
        payload.AsSpan(0, Math.Min(payload.Length, block.Length - 16)).CopyTo(block[16..]);
        memory.Write(InputGpa, block);
    }

    /// <summary>
    /// One packet at the start of the guest-to-host ring, indices reset around it, as hv_utils
    /// answers: an in-band descriptor, then the IC pipe and message headers (NEGOTIATE or
    /// heartbeat, flagged as a response) and a body, some of it random.
    /// </summary>
    private static void WriteInboundPacket(Random random, GuestPhysicalMap memory)
    {
        int bodyBytes = random.Next(0, 64);
        int dataBytes = IcMessage.BodyOffset + bodyBytes;
        int length = (VmBusRing.DescriptorBytes + dataBytes + 7) & ~7;
        var packet = new byte[length + 8];
        BinaryPrimitives.WriteUInt16LittleEndian(packet, 6); // VM_PKT_DATA_INBAND
        BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(2), VmBusRing.DescriptorBytes / 8);
        BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(4), (ushort)(length / 8));
        Span<byte> message = packet.AsSpan(VmBusRing.DescriptorBytes, dataBytes);
        random.NextBytes(message);
        BinaryPrimitives.WriteUInt16LittleEndian(message[12..], random.Next(2) == 0 ? IcMessage.Negotiate : IcMessage.Heartbeat);
        message[25] = IcMessage.Transaction | IcMessage.Response;
        if (random.Next(4) == 0)
            packet[random.Next(packet.Length)] ^= (byte)(1 << random.Next(8));
        ulong header = RingPfn * GuestRam.PageSize;
        memory.Write(header + GuestRam.PageSize, packet);
        memory.WriteValue(header + 4, 0u); // read index
        memory.WriteValue(header, (uint)packet.Length); // write index
    }

    /// <summary>Random bytes somewhere in the ring GPADL's pages: headers, indices, data.</summary>
    private static void ScribbleRing(Random random, GuestPhysicalMap memory)
    {
        int page = random.Next(2) == 0 ? random.Next(2) * RingSplit : random.Next(RingPages);
        ulong gpa = ((RingPfn + (ulong)page) * GuestRam.PageSize) + (ulong)random.Next(0, GuestRam.PageSize - 16);
        Span<byte> bytes = stackalloc byte[random.Next(1, 17)];
        random.NextBytes(bytes);
        memory.Write(gpa, bytes);
    }

    /// <summary>What Linux's hv_vmbus and hv_utils post, in the layouts of Linux's vmbus_channel_* structures.</summary>
    private static byte[][] LinuxMessages()
    {
        byte[] Message(VmBusMessageType type, int bytes)
        {
            var m = new byte[bytes];
            BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)type);
            return m;
        }

        byte[] Contact(uint version, uint vp)
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

        return
        [
            Contact(0x0005_0000, 0), Contact(0x0005_0000, 1), Contact(0x0005_0003, 0),
            Message(VmBusMessageType.RequestOffers, 8), gpadlHeader, gpadlBody, open, open, close, teardown,
            Message(VmBusMessageType.Unload, 8),
        ];
    }

    /// <summary>
    /// The guest's other VP, rewriting the ring's header and first packet descriptor while the host
    /// reads them, on a thread of its own: what the host reads twice may differ between the reads,
    /// and it must still answer with a status. Its timing is the scheduler's, so a seed replays the
    /// calls but not where this thread's writes land among them.
    /// </summary>
    private sealed class RingRewriter : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;

        public RingRewriter(GuestPhysicalMap memory, int seed)
        {
            _thread = new Thread(() =>
            {
                var random = new Random(seed ^ 0x5EED);
                ulong header = RingPfn * GuestRam.PageSize;
                while (!_stop)
                {
                    ulong gpa = random.Next(2) == 0 ? header + (ulong)(random.Next(8) * 2) : header + GuestRam.PageSize + (ulong)(random.Next(8) * 2);
                    memory.WriteValue(gpa, (ushort)random.Next(0x1_0000));
                }
            })
            { IsBackground = true, Name = "vmbus-fuzz other VP" };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }

    /// <summary>VMBus's way into the two SynICs, as a VM's is, counting what it posts.</summary>
    private sealed class SynIcGuest(SyntheticInterruptController[] synIcs) : IVmBusGuest
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
    private sealed class CountingSintDelivery : ISintDelivery
    {
        public long Interrupts { get; private set; }

        public void Deliver(byte vector) => Interrupts++;

        public void SetAutoEoiVectors(ReadOnlySpan<ulong> vectors)
        {
        }
    }
}
