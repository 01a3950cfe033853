using System.Buffers.Binary;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;
using Actors.HwBackend.VmBus;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

public sealed class VmBusProtocolTests : IDisposable
{
    private const uint Version50 = 0x0005_0000, Version53 = 0x0005_0003, Version40 = 0x0004_0000;
    private const ulong MiB = 1 << 20;
    private const uint Relid = 1, Handle = 0xE1E10;

    private static readonly VmBusOffer Heartbeat = new(VmBusOffer.Heartbeat, new Guid("00000000-1111-2222-3333-444444444444"), "heartbeat");

    private readonly GuestRam _ram = new(4 * MiB);
    private readonly GuestPhysicalMap _memory;
    private readonly RecordingGuest _guest = new(processors: 2);
    private readonly VmBusProtocol _bus;

    public VmBusProtocolTests()
    {
        _memory = new GuestPhysicalMap(_ram);
        _memory.AddRam("low", 0, 2 * MiB, 0);
        _memory.AddMmio("hole", 2 * MiB, MiB);
        _bus = new VmBusProtocol(_guest, _memory, [Heartbeat]);
    }

    public void Dispose() => _ram.Dispose();

    private static uint TypeOf(byte[] message) => BinaryPrimitives.ReadUInt32LittleEndian(message);

    private static uint Word(byte[] message, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(offset));

    /// <summary>GPADL_HEADER with the first pages, as Linux sends a ring of <paramref name="pages"/> pages at PFN <paramref name="firstPfn"/> on.</summary>
    private static byte[] GpadlHeader(uint relid, uint handle, int pages, ulong firstPfn, int inHeader)
    {
        byte[] message = Message(VmBusMessageType.GpadlHeader, 28 + (8 * inHeader));
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), relid);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(12), handle);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(16), (ushort)(8 + (8 * pages)));
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(18), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(20), (uint)pages * 4096);
        for (int i = 0; i < inHeader; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(28 + (8 * i)), firstPfn + (ulong)i);
        return message;
    }

    private static byte[] GpadlBody(uint handle, ulong firstPfn, int count)
    {
        byte[] message = Message(VmBusMessageType.GpadlBody, 16 + (8 * count));
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(12), handle);
        for (int i = 0; i < count; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(16 + (8 * i)), firstPfn + (ulong)i);
        return message;
    }

    private static byte[] Open(uint relid, uint ring, uint targetVp, uint downstream)
    {
        byte[] message = Message(VmBusMessageType.OpenChannel, 148);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), relid);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(12), relid);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(16), ring);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(20), targetVp);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(24), downstream);
        return message;
    }

    private void Connect()
    {
        Post(VmBusProtocol.ContactConnectionId, Contact(Version50));
        _guest.Posted.Clear();
    }

    private static byte[] Message(VmBusMessageType type, int length = 8)
    {
        var message = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)type);
        return message;
    }

    /// <summary>INITIATE_CONTACT as Linux 6.1 builds it for <paramref name="version"/>.</summary>
    private static byte[] Contact(uint version, uint targetVp = 1, byte sint = 2)
    {
        byte[] message = Message(VmBusMessageType.InitiateContact, 40);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), version);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(12), targetVp);
        message[16] = sint;
        BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(24), 0x7000);
        BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(32), 0x8000);
        return message;
    }

    private HvStatus Post(uint connection, byte[] message) => _bus.PostMessage(connection, HvMessageType.VmBus, message);

    [Fact]
    public void LinuxsNegotiationIsRefusedAboveFiveZeroAndAcceptedAtIt()
    {
        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.ContactConnectionId, Contact(Version53)));
        (uint vp, int sint, byte[] refusal) = Assert.Single(_guest.Posted);
        Assert.Equal((1u, 2), (vp, sint)); // answered where the guest asked
        Assert.Equal((uint)VmBusMessageType.VersionResponse, BinaryPrimitives.ReadUInt32LittleEndian(refusal));
        Assert.Equal(0, refusal[8]); // version_supported
        Assert.False(_bus.State.Connected);

        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.ContactConnectionId, Contact(Version50)));
        byte[] accepted = _guest.Posted[1].Message;
        Assert.Equal(1, accepted[8]);
        Assert.Equal(VmBusProtocol.MessageConnectionId, BinaryPrimitives.ReadUInt32LittleEndian(accepted.AsSpan(12)));
        Assert.Equal((true, Version50, 1u, 2, 0x7000UL, 0x8000UL), (_bus.State.Connected, _bus.State.Version, _bus.State.TargetVp, _bus.State.MessageSint, _bus.State.MonitorPage1, _bus.State.MonitorPage2));
    }

    [Fact]
    public void OffersAreRequestedAndTheBusUnloadsOnlyOnceConnected()
    {
        Post(VmBusProtocol.MessageConnectionId, Message(VmBusMessageType.RequestOffers));
        Assert.Empty(_guest.Posted);
        Assert.Equal(1, _bus.Dropped); // out of turn

        Post(VmBusProtocol.ContactConnectionId, Contact(Version50));
        Post(VmBusProtocol.MessageConnectionId, Message(VmBusMessageType.RequestOffers));
        Assert.Equal((uint)VmBusMessageType.AllOffersDelivered, BinaryPrimitives.ReadUInt32LittleEndian(_guest.Posted[^1].Message));

        // The heartbeat's offer: class and instance in Windows byte order, relid 1, a dedicated interrupt, its connection.
        byte[] offer = _guest.Posted[^2].Message;
        Assert.Equal(((uint)VmBusMessageType.OfferChannel, 196), (TypeOf(offer), offer.Length));
        Assert.Equal(VmBusOffer.Heartbeat, new Guid(offer.AsSpan(8, 16)));
        Assert.Equal(Heartbeat.InterfaceInstance, new Guid(offer.AsSpan(24, 16)));
        Assert.Equal(Relid, Word(offer, 184));
        Assert.Equal(1, offer[190]);
        Assert.Equal(VmBusProtocol.ChannelConnectionId(Relid), Word(offer, 192));

        Post(VmBusProtocol.MessageConnectionId, Message(VmBusMessageType.Unload));
        Assert.Equal((uint)VmBusMessageType.UnloadResponse, BinaryPrimitives.ReadUInt32LittleEndian(_guest.Posted[^1].Message));
        Assert.False(_bus.State.Connected);
    }

    [Fact]
    public void APreFiveGuestAndAnAddressThatDoesNotExistAreRefused()
    {
        // Before 5.0 there is no SINT in the message: the refusal goes to SINT 2.
        Post(VmBusProtocol.MessageConnectionId, Contact(Version40, targetVp: 0, sint: 9));
        Assert.Equal((0u, 2), (_guest.Posted[0].Vp, _guest.Posted[0].Sint));

        // A VP beyond the partition, or a SINT beyond 15: refused on VP 0's SINT 2.
        Post(VmBusProtocol.ContactConnectionId, Contact(Version50, targetVp: 7));
        Post(VmBusProtocol.ContactConnectionId, Contact(Version50, sint: 16));
        Assert.All(_guest.Posted, p => Assert.Equal((0u, 2, (byte)0), (p.Vp, p.Sint, p.Message[8])));
        Assert.False(_bus.State.Connected);
    }

    [Fact]
    public void WrongConnectionsTypesAndSizesGetAStatusOrAreDropped()
    {
        Assert.Equal(HvStatus.InvalidConnectionId, Post(3, Contact(Version50)));
        Assert.Equal(HvStatus.InvalidParameter, _bus.PostMessage(VmBusProtocol.ContactConnectionId, 2, Contact(Version50)));
        Assert.Equal(HvStatus.InvalidConnectionId, _bus.SignalEvent(2, 0));
        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.ContactConnectionId, new byte[4])); // no header
        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.ContactConnectionId, Contact(Version50)[..39])); // one byte short
        Assert.Equal(HvStatus.Success, Post(VmBusProtocol.MessageConnectionId, Message((VmBusMessageType)999)));
        Assert.Empty(_guest.Posted);
        Assert.Equal(3, _bus.Dropped);
    }

    [Fact]
    public void RandomAndMutatedMessagesNeverThrowAndGetAtMostOneAnswerEach()
    {
        // Seeded, so a failure is reproducible: 100,000 messages, half of them mutations of Linux's.
        var random = new Random(61);
        byte[][] valid =
        [
            Contact(Version50), Contact(Version53), Message(VmBusMessageType.RequestOffers), Message(VmBusMessageType.Unload),
            GpadlHeader(Relid, Handle, 40, 0x100, 26), GpadlBody(Handle, 0x100, 14), Open(Relid, Handle, 0, 20),
        ];
        for (int i = 0; i < 100_000; i++)
        {
            byte[] message;
            if (i % 2 == 0)
            {
                message = new byte[random.Next(0, 241)];
                random.NextBytes(message);
            }
            else
            {
                message = (byte[])valid[random.Next(valid.Length)].Clone();
                message[random.Next(message.Length)] ^= (byte)(1 << random.Next(8));
            }

            int before = _guest.Posted.Count;
            HvStatus status = _bus.PostMessage((uint)random.Next(0, 6), random.Next(8) == 0 ? (uint)random.Next() : HvMessageType.VmBus, message);
            Assert.True(status is HvStatus.Success or HvStatus.InvalidConnectionId or HvStatus.InvalidParameter, status.ToString());
            Assert.InRange(_guest.Posted.Count - before, 0, 2); // REQUESTOFFERS: the offer and ALLOFFERS_DELIVERED
            Assert.All(_guest.Posted.Skip(before), p => Assert.True(p.Vp < 2 && p.Sint < 16));
        }
    }

    [Fact]
    public void AStateThisPartitionCannotHaveIsRefused()
    {
        var connected = new VmBusState(true, Version50, 1, 2, 0, 0, [], []);
        Assert.Null(_bus.FindRestoreProblem(connected));
        Assert.Null(_bus.FindRestoreProblem(VmBusState.Disconnected));
        Assert.Contains("not one this build speaks", _bus.FindRestoreProblem(connected with { Version = Version53 }));
        Assert.Contains("does not exist here", _bus.FindRestoreProblem(connected with { TargetVp = 2 }));
        Assert.Contains("does not exist here", _bus.FindRestoreProblem(connected with { MessageSint = 16 }));

        _bus.RestoreState(connected);
        Post(VmBusProtocol.MessageConnectionId, Message(VmBusMessageType.RequestOffers));
        Assert.Equal((1u, 2), (_guest.Posted[0].Vp, _guest.Posted[0].Sint));
    }

    [Fact]
    public void AGpadlInHeaderAndBodiesThenAnOpenAsLinuxDoesIt()
    {
        Connect();
        // 40 pages: 26 in the header, 14 in a body; nothing is answered until the last page arrives.
        Post(VmBusProtocol.MessageConnectionId, GpadlHeader(Relid, Handle, pages: 40, firstPfn: 0x100, inHeader: 26));
        Assert.Empty(_guest.Posted);
        Post(VmBusProtocol.MessageConnectionId, GpadlBody(Handle, 0x100 + 26, 14));
        byte[] created = Assert.Single(_guest.Posted).Message;
        Assert.Equal(((uint)VmBusMessageType.GpadlCreated, Relid, Handle, 0u), (TypeOf(created), Word(created, 8), Word(created, 12), Word(created, 16)));

        Post(VmBusProtocol.MessageConnectionId, Open(Relid, Handle, targetVp: 1, downstream: 20));
        byte[] opened = _guest.Posted[^1].Message;
        Assert.Equal(((uint)VmBusMessageType.OpenChannelResult, Relid, 0u), (TypeOf(opened), Word(opened, 8), Word(opened, 16)));
        Assert.Equal(new VmBusChannelState(Relid, true, Relid, Handle, 1, 20), _bus.State.Channels[0]);

        // Its ring cannot be torn down while it is open; after CLOSECHANNEL it can.
        byte[] teardown = Message(VmBusMessageType.GpadlTeardown, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(teardown.AsSpan(8), Relid);
        BinaryPrimitives.WriteUInt32LittleEndian(teardown.AsSpan(12), Handle);
        Post(VmBusProtocol.MessageConnectionId, teardown);
        Assert.NotEqual((uint)VmBusMessageType.GpadlTorndown, TypeOf(_guest.Posted[^1].Message));
        byte[] close = Message(VmBusMessageType.CloseChannel, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(close.AsSpan(8), Relid);
        Post(VmBusProtocol.MessageConnectionId, close);
        Post(VmBusProtocol.MessageConnectionId, teardown);
        Assert.Equal(((uint)VmBusMessageType.GpadlTorndown, Handle), (TypeOf(_guest.Posted[^1].Message), Word(_guest.Posted[^1].Message, 8)));
        Assert.Empty(_bus.State.Gpadls);
        Assert.False(_bus.State.Channels[0].Open);
    }

    public static TheoryData<string, byte[]> BadGpadls => new()
    {
        { "a channel that is not offered", GpadlHeader(7, Handle, 4, 0x100, 4) },
        { "a page in MMIO", GpadlHeader(Relid, Handle, 4, (2 * MiB / 4096) - 2, 4) },
        { "a page beyond RAM", GpadlHeader(Relid, Handle, 2, 1UL << 30, 2) },
        { "a byte count beyond its pages", GpadlHeader(Relid, Handle, 8193, 0x100, 26) }, // range_buflen wraps at 16 bits
    };

    [Theory]
    [MemberData(nameof(BadGpadls))]
    public void AGpadlThatCannotBeHonouredFails(string what, byte[] header)
    {
        Connect();
        Post(VmBusProtocol.MessageConnectionId, header);
        byte[] answer = Assert.Single(_guest.Posted).Message;
        Assert.True((uint)VmBusMessageType.GpadlCreated == TypeOf(answer) && Word(answer, 16) == VmBusProtocol.Failure, what);
        Assert.Empty(_bus.State.Gpadls);
    }

    [Theory]
    [InlineData(2u, Handle, 0u, 20u)] // a channel that is not offered
    [InlineData(Relid, 0x999u, 0u, 20u)] // a GPADL that does not exist
    [InlineData(Relid, Handle, 5u, 20u)] // a VP that does not exist
    [InlineData(Relid, Handle, 0u, 39u)] // no room for the host-to-guest ring's data
    [InlineData(Relid, Handle, 0u, 1u)] // nor for the guest-to-host ring's
    public void AnOpenThatCannotBeHonouredFails(uint relid, uint ring, uint vp, uint downstream)
    {
        Connect();
        Post(VmBusProtocol.MessageConnectionId, GpadlHeader(Relid, Handle, pages: 40, firstPfn: 0x100, inHeader: 26));
        Post(VmBusProtocol.MessageConnectionId, GpadlBody(Handle, 0x100 + 26, 14));
        Post(VmBusProtocol.MessageConnectionId, Open(relid, ring, vp, downstream));
        byte[] answer = _guest.Posted[^1].Message;
        Assert.Equal(((uint)VmBusMessageType.OpenChannelResult, VmBusProtocol.Failure), (TypeOf(answer), Word(answer, 16)));
        Assert.DoesNotContain(_bus.State.Channels, c => c.Open);
    }

    [Fact]
    public void OpenChannelsAndGpadlsTravelInTheState()
    {
        Connect();
        Post(VmBusProtocol.MessageConnectionId, GpadlHeader(Relid, Handle, pages: 4, firstPfn: 0x100, inHeader: 4));
        Post(VmBusProtocol.MessageConnectionId, Open(Relid, Handle, targetVp: 0, downstream: 2));
        VmBusState saved = _bus.State;

        var copy = new VmBusProtocol(new RecordingGuest(2), _memory, [Heartbeat]);
        Assert.Null(copy.FindRestoreProblem(saved));
        copy.RestoreState(saved);
        Assert.Equal(saved.Channels, copy.State.Channels);
        Assert.Equal(saved.Gpadls.Single().Pages, copy.State.Gpadls.Single().Pages);
        Assert.Contains("not RAM", copy.FindRestoreProblem(saved with { Gpadls = [saved.Gpadls[0] with { Pages = [1UL << 30, .. saved.Gpadls[0].Pages[1..]] }] }));
        Assert.Contains("channel 9", copy.FindRestoreProblem(saved with { Channels = [saved.Channels[0] with { ChannelId = 9 }] }));
    }

    [Fact]
    public void AnOpenChannelsDeviceHearsOfItAndOfTheGuestsSignalsUntilItCloses()
    {
        var device = new RecordingDevice();
        var bus = new VmBusProtocol(_guest, _memory, [Heartbeat], [device]);
        uint connection = VmBusProtocol.ChannelConnectionId(Relid);
        Assert.Equal(HvStatus.InvalidConnectionId, bus.SignalEvent(connection, 0)); // not open yet

        bus.PostMessage(VmBusProtocol.ContactConnectionId, HvMessageType.VmBus, Contact(Version50));
        bus.PostMessage(VmBusProtocol.MessageConnectionId, HvMessageType.VmBus, GpadlHeader(Relid, Handle, pages: 4, firstPfn: 0x100, inHeader: 4));
        bus.PostMessage(VmBusProtocol.MessageConnectionId, HvMessageType.VmBus, Open(Relid, Handle, targetVp: 0, downstream: 2));
        Assert.Equal(["opened 1"], device.Events);
        Assert.Equal(HvStatus.Success, bus.SignalEvent(connection, 0));
        Assert.Equal(HvStatus.InvalidConnectionId, bus.SignalEvent(connection + 1, 0)); // no such channel
        Assert.Equal(["opened 1", "signalled 1"], device.Events);

        byte[] close = Message(VmBusMessageType.CloseChannel, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(close.AsSpan(8), Relid);
        bus.PostMessage(VmBusProtocol.MessageConnectionId, HvMessageType.VmBus, close);
        Assert.Equal(HvStatus.InvalidConnectionId, bus.SignalEvent(connection, 0));
        Assert.Equal(["opened 1", "signalled 1", "closed"], device.Events);
    }

    [Fact]
    public void TheGuestMovesAnOpenChannelToAnotherVpAndItsSignalsFollow()
    {
        var device = new RecordingDevice();
        var bus = new VmBusProtocol(_guest, _memory, [Heartbeat], [device]);
        bus.PostMessage(VmBusProtocol.ContactConnectionId, HvMessageType.VmBus, Contact(Version50));
        bus.PostMessage(VmBusProtocol.MessageConnectionId, HvMessageType.VmBus, GpadlHeader(Relid, Handle, pages: 4, firstPfn: 0x100, inHeader: 4));
        bus.PostMessage(VmBusProtocol.MessageConnectionId, HvMessageType.VmBus, Open(Relid, Handle, targetVp: 0, downstream: 2));
        _guest.Posted.Clear();

        byte[] modify = Message(VmBusMessageType.ModifyChannel, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(modify.AsSpan(8), Relid);
        BinaryPrimitives.WriteUInt32LittleEndian(modify.AsSpan(12), 1);
        bus.PostMessage(VmBusProtocol.MessageConnectionId, HvMessageType.VmBus, modify);
        Assert.Empty(_guest.Posted); // before protocol 5.3 the guest waits for no answer
        Assert.Equal(1u, bus.State.Channels.Single().TargetVp);
        Assert.True(device.Channel!.TrySend(1, [1, 2, 3]));
        Assert.Equal((1u, 2, Relid), _guest.Signals.Last());

        // A VP the partition does not have, or a channel that is not open, changes nothing.
        long dropped = bus.Dropped;
        BinaryPrimitives.WriteUInt32LittleEndian(modify.AsSpan(12), 2);
        bus.PostMessage(VmBusProtocol.MessageConnectionId, HvMessageType.VmBus, modify);
        BinaryPrimitives.WriteUInt32LittleEndian(modify.AsSpan(8), Relid + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(modify.AsSpan(12), 0);
        bus.PostMessage(VmBusProtocol.MessageConnectionId, HvMessageType.VmBus, modify);
        Assert.Equal(dropped + 2, bus.Dropped);
        Assert.Equal(1u, bus.State.Channels.Single().TargetVp);
    }

    [Fact]
    public void AWithdrawnDeviceIsRescindedClosedReleasedAndOfferedAgain()
    {
        var device = new RecordingDevice();
        var bus = new VmBusProtocol(_guest, _memory, [Heartbeat], [device]);
        HvStatus Send(byte[] message) => bus.PostMessage(VmBusProtocol.MessageConnectionId, HvMessageType.VmBus, message);
        byte[] WithRelid(VmBusMessageType type)
        {
            byte[] message = Message(type, 12);
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), Relid);
            return message;
        }

        bus.PostMessage(VmBusProtocol.ContactConnectionId, HvMessageType.VmBus, Contact(Version50));
        Send(GpadlHeader(Relid, Handle, pages: 4, firstPfn: 0x100, inHeader: 4));
        Send(Open(Relid, Handle, targetVp: 0, downstream: 2));
        _guest.Posted.Clear();

        Assert.True(bus.Rescind(0));
        Assert.False(bus.Rescind(0));
        (uint vp, int sint, byte[] rescind) = Assert.Single(_guest.Posted);
        Assert.Equal(((uint)VmBusMessageType.RescindChannelOffer, Relid), (TypeOf(rescind), Word(rescind, 8)));
        Assert.Equal((1u, 2), (vp, sint)); // where the guest asked the bus's messages to go
        Assert.False(bus.Reoffer(0)); // not before the guest released the relid

        // What Linux does: close, tear the ring's GPADL down, release the relid.
        Send(WithRelid(VmBusMessageType.CloseChannel));
        byte[] teardown = Message(VmBusMessageType.GpadlTeardown, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(teardown.AsSpan(8), Relid);
        BinaryPrimitives.WriteUInt32LittleEndian(teardown.AsSpan(12), Handle);
        Send(teardown);
        Assert.Equal([1u], bus.State.Releasing);
        Send(WithRelid(VmBusMessageType.RelIdReleased));
        Assert.Equal(["opened 1", "closed"], device.Events);
        Assert.Empty(bus.State.Releasing!);
        Assert.Equal([1u], bus.State.Withdrawn);

        // Withdrawn, it is neither offered, lent pages nor opened.
        _guest.Posted.Clear();
        Send(Message(VmBusMessageType.RequestOffers));
        Assert.Equal([(uint)VmBusMessageType.AllOffersDelivered], _guest.Posted.Select(p => TypeOf(p.Message)));
        _guest.Posted.Clear();
        Send(GpadlHeader(Relid, Handle, pages: 4, firstPfn: 0x100, inHeader: 4));
        Assert.Equal(VmBusProtocol.Failure, Word(_guest.Posted.Single().Message, 16));
        long dropped = bus.Dropped;
        Send(WithRelid(VmBusMessageType.RelIdReleased)); // released already
        Assert.Equal(dropped + 1, bus.Dropped);

        // Offered again, the guest hears of it at once, as of a device added to a running VM.
        _guest.Posted.Clear();
        Assert.True(bus.Reoffer(0));
        Assert.False(bus.Reoffer(0));
        Assert.Equal((uint)VmBusMessageType.OfferChannel, TypeOf(_guest.Posted.Single().Message));
        Assert.Empty(bus.State.Withdrawn!);
    }

    [Fact]
    public void WithdrawnChannelsTravelInTheStateAndImpossibleOnesAreRefused()
    {
        Connect();
        Assert.True(_bus.Rescind(0));
        VmBusState saved = _bus.State;
        Assert.Equal([1u], saved.Withdrawn);
        Assert.Equal([1u], saved.Releasing);

        var copy = new VmBusProtocol(new RecordingGuest(2), _memory, [Heartbeat]);
        Assert.Null(copy.FindRestoreProblem(saved));
        copy.RestoreState(saved);
        Assert.Equal([1u], copy.State.Withdrawn);
        Assert.Equal([1u], copy.State.Releasing);
        Assert.Contains("withdrawn channel 7", copy.FindRestoreProblem(saved with { Withdrawn = [7u] }));
        Assert.Contains("without having been withdrawn", copy.FindRestoreProblem(saved with { Withdrawn = [] }));
    }

    private sealed class RecordingDevice : IVmBusDevice
    {
        public List<string> Events { get; } = [];

        public IVmBusChannel? Channel { get; private set; }

        public void Opened(IVmBusChannel channel)
        {
            Channel = channel;
            Events.Add($"opened {channel.Relid}");
        }

        public void Signalled(IVmBusChannel channel) => Events.Add($"signalled {channel.Relid}");

        public void Closed() => Events.Add("closed");
    }

    private sealed class RecordingGuest(int processors) : IVmBusGuest
    {
        public List<(uint Vp, int Sint, byte[] Message)> Posted { get; } = [];

        public int ProcessorCount => processors;

        public List<(uint Vp, int Sint, uint Relid)> Signals { get; } = [];

        public bool PostMessage(uint vp, int sint, ReadOnlySpan<byte> message)
        {
            Posted.Add((vp, sint, message.ToArray()));
            return true;
        }

        public void SignalChannel(uint vp, int sint, uint relid) => Signals.Add((vp, sint, relid));
    }
}
