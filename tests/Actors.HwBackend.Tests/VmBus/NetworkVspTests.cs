using System.Buffers.Binary;
using System.Diagnostics;
using Actors.HwBackend.Network;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Tests.Network;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.Network;
using Xunit;
using Xunit.Abstractions;
using static Actors.HwBackend.Tests.VmBus.NetvscTestGuest;

namespace Actors.HwBackend.Tests.VmBus;

/// <summary>
/// The network VSP without a guest kernel: the test plays hv_netvsc (<see cref="NetvscTestGuest"/>),
/// from the NVSP handshake through RNDIS to frames both ways, then as a guest that gets everything
/// wrong it can, and last as a fuzz of both parsers.
/// </summary>
public sealed class NetworkVspTests(ITestOutputHelper output) : IDisposable
{
    private static readonly MacAddress OtherMac = new(0x00155D_654321), Broadcast = new(0xFFFF_FFFF_FFFF), Multicast = new(0x01005E_000001);

    private readonly NetvscTestGuest _guest = new();

    public void Dispose() => _guest.Dispose();

    [Fact]
    public void TheHandshakeLinuxRunsIsAnsweredWithTheBuffersSectionSizes()
    {
        HostPacket refused = _guest.Request(Nvsp(Init, 0x70000, 0x70000)); // a version the VSP does not know: netvsc offers the next
        Assert.Equal((InitComplete, 2u), (refused.Word(0), refused.Word(3)));
        HostPacket accepted = _guest.Request(Nvsp(Init, 0x60001, 0x60001));
        Assert.Equal((InitComplete, 0x60001u, 1u), (accepted.Word(0), accepted.Word(1), accepted.Word(3)));

        _guest.Post(Nvsp(SendNdisConfig, 1514, 0, 0));
        _guest.Post(Nvsp(SendNdisVersion, 6, 30));
        Assert.Empty(_guest.Drain());

        // One section list at offset 0: sections of 1728 bytes, as many as fit the buffer, and where the last ends.
        HostPacket receive = _guest.Request(Nvsp(SendReceiveBuffer, ReceiveGpadl, ReceivePageSet));
        Assert.Equal(151, ReceiveSections);
        Assert.Equal([SendReceiveBufferComplete, 1u, 1u, 0u, 1728u, 151u, 151u * 1728], Words(receive, 7));
        HostPacket send = _guest.Request(Nvsp(SendSendBuffer, SendGpadl, 0));
        Assert.Equal([SendSendBufferComplete, 1u, 6144u], Words(send, 3));
        Assert.Equal(0, _guest.Vsp.Malformed);
        Assert.False(_guest.Vsp.Ready); // until RNDIS is initialised
    }

    [Theory]
    [InlineData("before INIT", false)]
    [InlineData("before INIT", true)]
    [InlineData("a second buffer", false)]
    [InlineData("a second buffer", true)]
    [InlineData("a handle the channel does not have", false)]
    [InlineData("a handle the channel does not have", true)]
    [InlineData("a GPADL of another channel", false)]
    [InlineData("a GPADL of another channel", true)]
    [InlineData("more bytes than its pages", false)]
    [InlineData("more bytes than its pages", true)]
    [InlineData("an offset past its first page", false)]
    [InlineData("less than a section", false)]
    [InlineData("less than a section", true)]
    public void ABufferThatCannotBeTakenIsRefusedWithStatusTwoAndCounted(string how, bool send)
    {
        (uint type, uint handle, ulong[] pages) = send ? (SendSendBuffer, SendGpadl, _guest.SendBufferPages) : (SendReceiveBuffer, ReceiveGpadl, _guest.ReceiveBufferPages);
        if (how != "before INIT")
            Assert.Equal(1u, _guest.Request(Nvsp(Init, 0x60001, 0x60001)).Word(3));
        switch (how)
        {
            case "a second buffer":
                Assert.Equal(1u, _guest.Request(Nvsp(type, handle, ReceivePageSet)).Word(1));
                _guest.Lend(handle = 0x77, [.. Enumerable.Range(0x500, 4).Select(p => (ulong)p)]);
                break;
            case "a handle the channel does not have": handle = 0x1234; break;
            case "a GPADL of another channel": _guest.Lend(handle, pages, channelId: Relid + 1); break;
            case "more bytes than its pages": _guest.Lend(handle, pages, byteCount: (uint)(pages.Length * 4096) + 1); break;
            case "an offset past its first page": _guest.Lend(handle, pages, byteCount: 8192, byteOffset: 4096); break;
            case "less than a section": _guest.Lend(handle, pages[..2], byteCount: send ? 6143u : 1727u); break;
        }
        HostPacket answer = _guest.Request(Nvsp(type, handle, ReceivePageSet));
        Assert.Equal((send ? SendSendBufferComplete : SendReceiveBufferComplete, 2u), (answer.Word(0), answer.Word(1)));
        Assert.Equal(1, _guest.Vsp.Malformed);
    }

    [Fact]
    public void RndisInitIsAnsweredThroughAReceiveSection()
    {
        _guest.Handshake();
        Sent init = _guest.SendInSection(2, GuestRndis.Init(77), complete: false);
        Assert.Equal(1u, init.Status);
        HostPacket transfer = Assert.Single(init.Transfers);
        // Request id, status, version 1.0, connectionless, 802.3, up to 8 packets in a message of 16 KiB, aligned to 1 << 3.
        Assert.Equal([RndisInit | RndisCompletion, 52u, 77u, 0u, 1u, 0u, 1u, 0u, 8u, 0x4000u, 3u, 0u, 0u], Words(init.Messages[0]));
        Assert.True(_guest.Vsp.Ready);
        _guest.Complete(transfer.Transaction);
        Assert.Equal(0, _guest.Vsp.Malformed);
        Assert.Empty(_guest.Drain());
    }

    [Fact]
    public void FramesLeaveSectionsForAnswersAndAnswersWithoutRoomWaitForTheGuestToFreeOne()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterPromiscuous);
        var transfers = new List<HostPacket>();
        while (_guest.Deliver(Frame(OtherMac, 60, transfers.Count)) == 1)
            transfers.Add(Assert.Single(_guest.Drain()));
        Assert.Equal(ReceiveSections - 4, transfers.Count); // four kept for answers
        Assert.Equal(transfers.Count, transfers.Select(t => t.Range(0).Offset).Distinct().Count());
        Assert.Equal(1, _guest.Vsp.ReceiveDrops);

        // Answers take the kept sections; the fifth waits (not dropped) until the guest frees one.
        for (uint id = 1; id <= 4; id++)
        {
            Sent answered = _guest.SendInSection(1, GuestRndis.KeepAlive(id), complete: false);
            Assert.Equal((1u, 1), (answered.Status, answered.Transfers.Count));
            transfers.Add(answered.Transfers[0]);
        }
        Sent waiting = _guest.SendInSection(1, GuestRndis.KeepAlive(5), complete: false);
        Assert.Equal((1u, 0), (waiting.Status, waiting.Transfers.Count));
        Assert.Equal(1, _guest.Vsp.ReceiveDrops);

        HostPacket freed = transfers[40];
        _guest.Complete(freed.Transaction);
        HostPacket late = Assert.Single(_guest.Drain());
        Assert.Equal(freed.Range(0).Offset, late.Range(0).Offset);
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(_guest.Read(late).AsSpan(8))); // the keep-alive's request id
        Assert.Equal(0, _guest.Deliver(Frame(Mac, 100, 2000)));
        Assert.Equal(2, _guest.Vsp.ReceiveDrops);
        Assert.Equal(0, _guest.Vsp.Malformed);
    }

    [Fact]
    public void AFrameThatFindsTheGuestsRingFullIsDroppedAndItsSectionGoesBack()
    {
        using var guest = new NetvscTestGuest(toGuestDataPages: 1);
        guest.Handshake();
        guest.InitialiseRndis(FilterDirected);
        int delivered = 0;
        while (guest.Deliver(Frame(Mac, 60, delivered)) == 1)
            delivered++;
        Assert.InRange(delivered, 1, ReceiveSections - 1); // the ring filled before the sections ran out
        Assert.Equal(1, guest.Vsp.ReceiveDrops);
        foreach (HostPacket transfer in guest.Drain())
            guest.Complete(transfer.Transaction);

        // Every section is free again, the one taken for the frame that did not fit as well.
        Assert.Equal(ReceiveSections, FreeSections(guest));
    }

    [Fact]
    public void QueriesAnswerWhatNetvscAsks()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected | FilterBroadcast);
        AssertQuery(OidPermanentAddress, 0, [0x00, 0x15, 0x5D, 0x12, 0x34, 0x56]);
        AssertQuery(OidMaximumFrameSize, 0, Le(1500));
        AssertQuery(OidLinkSpeed, 0, Le(100_000_000)); // 10 Gbit/s in units of 100 bit/s
        AssertQuery(OidMediaConnectStatus, 0, Le(0)); // connected
        AssertQuery(OidPacketFilter, 0, Le(FilterDirected | FilterBroadcast));
        byte[] offload = Query(OidOffloadCapabilities).Info;
        Assert.Equal(112, offload.Length);
        Assert.Equal((0xA7, 1, 112), (offload[0], offload[1], BinaryPrimitives.ReadUInt16LittleEndian(offload.AsSpan(2)))); // NDIS_OBJECT_TYPE_OFFLOAD, revision 1
        // IPv4 TCP and UDP checksums on transmit and receive (802.3 framing), IPv4 large send v2 of up to
        // 62780 bytes in at least 2 segments; nothing for IPv6, no LSOv1 or IPsec.
        uint[] words = Words(offload[4..]);
        Assert.Equal([2u, 0x54, 2, 0x54, 0, 0, 0, 0], words[..8]);
        Assert.Equal([2u, 62_780, 2, 0, 0, 0, 0, 0], words[19..]);
        Assert.All(words[8..19], w => Assert.Equal(0u, w));
        AssertQuery(OidReceiveScaleCapabilities, 0xC000_00BB, []); // NOT_SUPPORTED, so netvsc asks for no sub-channels
        Assert.Equal(0, _guest.Vsp.Malformed);
    }

    [Fact]
    public void KeepAliveAndResetAreAnsweredAndAfterHaltNoFramesGoToTheGuest()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        Assert.Equal([RndisKeepAlive | RndisCompletion, 16u, 42u, 0u], Words(Assert.Single(_guest.SendInSection(1, GuestRndis.KeepAlive(42)).Messages)));
        Assert.Equal([RndisReset | RndisCompletion, 16u, 0u, 0u], Words(Assert.Single(_guest.SendInSection(1, GuestRndis.Reset()).Messages)));

        Sent halt = _guest.SendInSection(1, GuestRndis.Halt(43));
        Assert.Equal((1u, 0), (halt.Status, halt.Messages.Count));
        Assert.False(_guest.Vsp.Ready);
        Assert.Equal(0, _guest.Deliver(Frame(Mac, 60, 1)));
        Assert.Equal(1, _guest.Vsp.ReceiveDrops);

        _guest.InitialiseRndis(FilterDirected);
        Assert.Equal(1, _guest.Deliver(Frame(Mac, 60, 2)));
    }

    [Fact]
    public void PullingTheCableIsIndicatedToTheGuestAndItsQueriesAndFramesSaySo()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        _guest.SetLink(false);
        HostPacket disconnect = Assert.Single(_guest.Drain());
        Assert.Equal([RndisIndicate, 20u, 0x4001_000Cu, 0u, 0u], Words(_guest.Read(disconnect)));
        _guest.Complete(disconnect.Transaction);
        AssertQuery(OidMediaConnectStatus, 0, Le(1));
        Assert.Equal(1u, _guest.SendInSection(3, GuestRndis.Packet(Frame(OtherMac, 60, 1))).Status); // sent into nothing
        Assert.Empty(_guest.Uplink.Frames);
        _guest.SetLink(false);
        Assert.Empty(_guest.Drain());

        _guest.SetLink(true);
        HostPacket connect = Assert.Single(_guest.Drain());
        Assert.Equal([RndisIndicate, 20u, 0x4001_000Bu, 0u, 0u], Words(_guest.Read(connect)));
        _guest.Complete(connect.Transaction);
        AssertQuery(OidMediaConnectStatus, 0, Le(0));
        byte[] frame = Frame(OtherMac, 60, 2);
        Assert.Equal(1u, _guest.SendInSection(3, GuestRndis.Packet(frame)).Status);
        Assert.Equal(frame, Assert.Single(_guest.Uplink.Frames));
    }

    [Fact]
    public void ThePacketFilterChoosesTheFramesTheGuestGetsAndTheyArriveIntact()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(0);
        byte[] directed = Frame(Mac, 1518, 1), other = Frame(OtherMac, 60, 2), broadcast = Frame(Broadcast, 342, 3), multicast = Frame(Multicast, 90, 4);
        byte[][] all = [directed, other, broadcast, multicast];
        Assert.Equal(0, _guest.Deliver(all));

        _guest.SetFilter(FilterDirected);
        Assert.Equal(1, _guest.Deliver(all));
        AssertDelivered(directed);
        _guest.SetFilter(FilterDirected | FilterBroadcast);
        Assert.Equal(2, _guest.Deliver(all));
        AssertDelivered(directed, broadcast);
        _guest.SetFilter(FilterDirected | FilterMulticast);
        Assert.Equal(2, _guest.Deliver(all));
        AssertDelivered(directed, multicast);
        _guest.SetFilter(FilterPromiscuous);
        Assert.Equal(4, _guest.Deliver(all));
        AssertDelivered(all);
        Assert.Equal(0, _guest.Vsp.ReceiveDrops); // a frame the filter refuses is not a drop

        // Sizes no Ethernet frame has are dropped and counted, however much the filter takes.
        Assert.Equal(0, _guest.Deliver(Frame(OtherMac, 13, 5), Frame(OtherMac, 1519, 6)));
        Assert.Equal(2, _guest.Vsp.ReceiveDrops);
        Assert.Equal((9, (4L * 1518) + (2 * 342) + (2 * 90) + 60), (_guest.Vsp.ReceivedFrames, _guest.Vsp.ReceivedBytes));
    }

    [Fact]
    public void FramesInASendSectionReachTheUplinkIntactAndAreCompleted()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        byte[][] frames = [Frame(OtherMac, 1514, 7), Frame(OtherMac, 14, 8), Frame(OtherMac, 1518, 9)];
        foreach (byte[] frame in frames)
        {
            Sent sent = _guest.SendInSection(SendSections - 1, GuestRndis.Packet(frame));
            Assert.Equal((1u, 0), (sent.Status, sent.Transfers.Count));
        }
        Assert.Equal(frames, _guest.Uplink.Frames);
        Assert.Equal((3, 1514L + 14 + 1518), (_guest.Vsp.TransmittedFrames, _guest.Vsp.TransmittedBytes));
    }

    [Fact]
    public void ALargeSendInGuestPagesReachesTheUplinkAsSegmentsAndAChecksumRequestIsFilledIn()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        byte[] payload = RandomBytes(new Random(3), 5000);
        byte[] large = TcpFrames.Large(payload);
        Assert.Equal(1u, SendInPages(GuestRndis.PacketWithInfo(large, 2, TcpFrames.LargeSendInfo(1448))).Status);
        Assert.Equal(4, _guest.Uplink.Frames.Count); // 5000 bytes at 1448 a segment
        Assert.Equal(payload, _guest.Uplink.Frames.SelectMany(f => f[54..]).ToArray());
        Assert.All(_guest.Uplink.Frames, f => Assert.Equal(TcpFrames.Verified, NetworkOffload.VerifyChecksums(f)));

        // A frame whose TCP checksum the guest left to the host: the pseudo header's sum in the field.
        byte[] partial = TcpFrames.Partial(payload[..1000]);
        Assert.Equal(1u, _guest.SendInSection(0, GuestRndis.PacketWithInfo(partial, 0, TcpFrames.ChecksumInfo)).Status);
        Assert.Equal(TcpFrames.Verified, NetworkOffload.VerifyChecksums(_guest.Uplink.Frames[^1]));
        Assert.Equal(0, _guest.Vsp.Malformed);
    }

    [Theory]
    [InlineData("an MSS of 0")]
    [InlineData("an MSS too large for a frame")]
    [InlineData("a TCP offset that is not after the IP header")]
    [InlineData("information past the message")]
    [InlineData("an IPv6 large send")]
    public void ALargeSendThatDoesNotDescribeItsFrameIsFailedAndSendsNothing(string how)
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        byte[] large = TcpFrames.Large(new byte[3000]);
        byte[] message = GuestRndis.PacketWithInfo(large, 2, how switch
        {
            "an MSS of 0" => TcpFrames.LargeSendInfo(0),
            "an MSS too large for a frame" => TcpFrames.LargeSendInfo(1500),
            "a TCP offset that is not after the IP header" => TcpFrames.LargeSendInfo(1448) + (4u << 20),
            "an IPv6 large send" => TcpFrames.LargeSendInfo(1448) | (1u << 31),
            _ => TcpFrames.LargeSendInfo(1448),
        });
        if (how == "information past the message")
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8 + 24), 0x10000);
        Assert.Equal(2u, SendInPages(message).Status);
        Assert.Empty(_guest.Uplink.Frames);
        Assert.Equal(1, _guest.Vsp.Malformed);
    }

    [Fact]
    public void ReceivedFramesCarryTheHostsChecksumVerdictOnceTheGuestAsksForIt()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        byte[] good = TcpFrames.Segment(TcpFrames.Large(new byte[100], destination: Mac));
        Assert.Equal(1, _guest.Deliver(good));
        AssertDelivered(good); // no per-packet information until the guest asks

        // NDIS_OFFLOAD_PARAMETERS: IPv4 header checksum off (1), TCP and UDP checksums both ways (4).
        byte[] parameters = new byte[32];
        (parameters[4], parameters[5], parameters[6]) = (1, 4, 4);
        Assert.Equal(1u, _guest.SendInSection(0, GuestRndis.Set(_guest.NextRequestId(), OidOffloadParameters, parameters)).Status);
        byte[] bad = (byte[])good.Clone();
        bad[^1] ^= 1;
        Assert.Equal(2, _guest.Deliver(good, bad));
        List<HostPacket> transfers = _guest.Drain();
        uint[] verdicts = new uint[2];
        for (int i = 0; i < 2; i++)
        {
            byte[] message = _guest.Read(transfers[i]);
            // The frame after 16 bytes of information (at 36 from the fields): size, type 0, offset 12, the verdict.
            Assert.Equal([RndisPacket, 60u + (uint)good.Length, 52u, (uint)good.Length, 0u, 0u, 0u, 36u, 16u, 0u, 0u], Words(message[..44]));
            Assert.Equal([16u, 0u, 12u], Words(message[44..56]));
            verdicts[i] = Word(message, 56);
            Assert.Equal(i == 0 ? good : bad, message[60..]);
            _guest.Complete(transfers[i].Transaction);
        }
        Assert.Equal([8u | 32u, 1u | 32u], verdicts); // TCP and IP succeeded; TCP failed (the flipped bit), IP succeeded
    }

    [Fact]
    public void FramesInGuestPagesReachTheUplinkIntactAcrossPagesAndRanges()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        // One range: the whole message at 3500 in a page, running on into one that is not the next.
        byte[] whole = GuestRndis.Packet(Frame(OtherMac, 1000, 8));
        WriteAcross(DataPage, DataPage + 5, 3500, whole);
        Sent sent = _guest.SendRndis(VmBusPacketType.DataUsingGpaDirect, Ranges((whole.Length, 3500, [DataPage, DataPage + 5])), NoSection, 0);
        Assert.Equal(1u, sent.Status);

        // As netvsc's page buffers: the RNDIS header in one range, the frame in another across two pages.
        byte[] frame = Frame(OtherMac, 1400, 9);
        _guest.Memory.Write(((DataPage + 10) * 4096) + 4000, GuestRndis.Packet(frame)[..44]);
        WriteAcross(DataPage + 12, DataPage + 11, 3000, frame);
        sent = _guest.SendRndis(VmBusPacketType.DataUsingGpaDirect, Ranges((44, 4000, [DataPage + 10]), (1400, 3000, [DataPage + 12, DataPage + 11])), NoSection, 0);
        Assert.Equal(1u, sent.Status);
        Assert.Equal([whole[44..], frame], _guest.Uplink.Frames);
    }

    [Fact]
    public void TwoPacketsBatchedInOneSectionBothReachTheUplinkInOrder()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        byte[] first = Frame(OtherMac, 61, 10), second = Frame(OtherMac, 60, 11);
        byte[] batch = [.. GuestRndis.Packet(first, align: 8), .. GuestRndis.Packet(second)];
        Assert.Equal(112 + 104, batch.Length); // the first's 105 bytes padded to 8, as netvsc pads a message another follows
        Assert.Equal(1u, _guest.SendInSection(4, batch).Status);
        Assert.Equal([first, second], _guest.Uplink.Frames);
    }

    [Fact]
    public void APacketWithItsHeaderInASectionAndItsFrameInPagesReachesTheUplinkIntact()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        // netvsc's partial copy: the RNDIS header (whose length counts the frame) copied to a section, the frame left in its pages.
        byte[] frame = Frame(OtherMac, 1400, 12);
        _guest.WriteSendSection(5, GuestRndis.Packet(frame)[..44]);
        WriteAcross(DataPage + 20, DataPage + 21, 3000, frame);
        Sent sent = _guest.SendRndis(VmBusPacketType.DataUsingGpaDirect, Ranges((1400, 3000, [DataPage + 20, DataPage + 21])), 5, 44);
        Assert.Equal(1u, sent.Status);
        Assert.Equal(frame, Assert.Single(_guest.Uplink.Frames));
    }

    [Theory]
    [InlineData("an RNDIS message of length 0")]
    [InlineData("an RNDIS message shorter than its header")]
    [InlineData("an RNDIS message longer than the data")]
    [InlineData("an RNDIS message of a kind the guest does not send")]
    [InlineData("a PACKET too short for its fields")]
    [InlineData("a PACKET whose data starts inside its fields")]
    [InlineData("a PACKET whose data starts past the message")]
    [InlineData("a PACKET whose frame runs past the message")]
    [InlineData("a frame of 13 bytes")]
    [InlineData("a frame of 1519 bytes")]
    [InlineData("a SET whose information starts inside its fields")]
    [InlineData("a SET whose information starts past the message")]
    [InlineData("a SET whose information runs past the message")]
    [InlineData("a section past the send buffer")]
    [InlineData("a section index of 0xFFFFFFFE")]
    [InlineData("a section larger than 6144 bytes")]
    [InlineData("a section after the send buffer was revoked")]
    [InlineData("a range offset of 4096")]
    [InlineData("a range offset of 5000")]
    [InlineData("a page in an MMIO hole")]
    [InlineData("a page beyond RAM")]
    [InlineData("a page whose address wraps round into RAM")]
    [InlineData("more ranges than the descriptor holds")]
    [InlineData("a range with more pages than the descriptor holds")]
    [InlineData("no room for the range count")]
    [InlineData("more than 64 KiB in its ranges")]
    public void WhatAnUntrustedGuestGetsWrongIsFailedAndCountedAndSendsNothing(string how)
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        byte[] rndis = GuestRndis.Packet(Frame(OtherMac, 100, 13));
        var type = VmBusPacketType.DataInband;
        byte[] ranges = [];
        (uint section, uint? sectionBytes) = (0, null); // null: the message's length
        byte[] set = GuestRndis.Set(7, OidPacketFilter, Le(FilterPromiscuous));
        switch (how)
        {
            case "an RNDIS message of length 0": rndis = GuestRndis.KeepAlive(1); Patch(rndis, 4, 0); break;
            case "an RNDIS message shorter than its header": rndis = GuestRndis.KeepAlive(1); Patch(rndis, 4, 4); break;
            case "an RNDIS message longer than the data": rndis = GuestRndis.KeepAlive(1); Patch(rndis, 4, 100); break;
            case "an RNDIS message of a kind the guest does not send": rndis = GuestRndis.Message(RndisInit | RndisCompletion, [1, 0]); break;
            case "a PACKET too short for its fields": rndis = GuestRndis.Message(RndisPacket, [36, 14]); break;
            case "a PACKET whose data starts inside its fields": Patch(rndis, 8, 20); break;
            case "a PACKET whose data starts past the message": Patch(rndis, 8, 1000); break;
            case "a PACKET whose frame runs past the message": Patch(rndis, 12, 101); break;
            case "a frame of 13 bytes": rndis = GuestRndis.Packet(Frame(OtherMac, 13, 14)); break;
            case "a frame of 1519 bytes": rndis = GuestRndis.Packet(Frame(OtherMac, 1519, 15)); break;
            case "a SET whose information starts inside its fields": rndis = set; Patch(rndis, 20, 8); break;
            case "a SET whose information starts past the message": rndis = set; Patch(rndis, 20, 200); break;
            case "a SET whose information runs past the message": rndis = set; Patch(rndis, 16, 100); break;
            case "a section past the send buffer": section = (SendBytes / 6144) + 1; break;
            case "a section index of 0xFFFFFFFE": section = 0xFFFF_FFFE; break;
            case "a section larger than 6144 bytes": sectionBytes = 6145; break;
            case "a section after the send buffer was revoked": _guest.Post(Nvsp(RevokeSendBuffer, 0)); break;
            default:
                (type, section, sectionBytes) = (VmBusPacketType.DataUsingGpaDirect, NoSection, 0);
                WriteAcross(DataPage, DataPage + 1, 4000, rndis);
                if (how.StartsWith("a range offset", StringComparison.Ordinal))
                    _guest.Memory.Write((DataPage + 1) * 4096, rndis); // where an offset past the first page would find it
                ranges = how switch
                {
                    "a range offset of 4096" => Ranges((rndis.Length, 4096, [DataPage, DataPage + 1])),
                    "a range offset of 5000" => Ranges((rndis.Length, 5000, [DataPage, DataPage + 1, DataPage + 2])),
                    "a page in an MMIO hole" => Ranges((rndis.Length, 4000, [DataPage, HolePage])),
                    "a page beyond RAM" => Ranges((rndis.Length, 4000, [DataPage, 0x10_0000])),
                    "a page whose address wraps round into RAM" => Ranges((rndis.Length, 4000, [DataPage, (1UL << 52) + DataPage + 1])),
                    "more ranges than the descriptor holds" => Patch(Ranges((rndis.Length, 4000, [DataPage, DataPage + 1])), 4, 3),
                    "a range with more pages than the descriptor holds" => Ranges((rndis.Length, 4000, [DataPage])),
                    "no room for the range count" => [],
                    "more than 64 KiB in its ranges" => Ranges((65537, 0, [.. Enumerable.Range(0, 17).Select(p => DataPage + (ulong)p)])),
                    _ => throw new ArgumentException(how),
                };
                break;
        }
        if (type == VmBusPacketType.DataInband && section < SendSections)
            _guest.WriteSendSection((int)section, rndis);

        Sent sent = _guest.SendRndis(type, ranges, section, sectionBytes ?? (uint)rndis.Length);
        Assert.Equal(2u, sent.Status);
        Assert.Equal(1, _guest.Vsp.Malformed);
        Assert.Empty(_guest.Uplink.Frames);
        Assert.Equal(0, _guest.Vsp.TransmittedFrames);
        // A SET that cannot be read is answered INVALID_DATA, for the guest waits for its answer; nothing else goes to the guest.
        Assert.Equal(how.StartsWith("a SET", StringComparison.Ordinal) ? 1 : 0, sent.Messages.Count);
        foreach (byte[] message in sent.Messages)
        {
            Assert.Equal((RndisSet | RndisCompletion, 7u, 0xC001_0015u), (Word(message, 0), Word(message, 8), Word(message, 12)));
            AssertQuery(OidPacketFilter, 0, Le(FilterDirected)); // and the filter is as it was
        }
    }

    [Fact]
    public void CompletionsThatNameNoSectionInUseAreCountedAndFreeNothingTwice()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        Assert.Equal(1, _guest.Deliver(Frame(Mac, 60, 1)));
        HostPacket transfer = Assert.Single(_guest.Drain());
        (ulong generation, uint section) = (transfer.Transaction >> 32, (uint)transfer.Transaction);
        _guest.Complete((generation << 32) | ((section + 1) % (uint)ReceiveSections)); // free
        _guest.Complete((generation << 32) | ReceiveSections); // past the last
        _guest.Complete(((generation + 1) << 32) | section); // a generation still to come
        _guest.Complete(transfer.Transaction, type: SendReceiveBufferComplete); // not the completion of a transfer
        Assert.Equal(4, _guest.Vsp.Malformed);
        _guest.Complete(transfer.Transaction);
        Assert.Equal(4, _guest.Vsp.Malformed);
        _guest.Complete(transfer.Transaction);
        Assert.Equal(5, _guest.Vsp.Malformed);
        Assert.Empty(_guest.Drain());
        Assert.Equal(ReceiveSections, FreeSections(_guest)); // each once
    }

    [Fact]
    public void ACompletionFromBeforeTheReceiveBufferWasLentAgainFreesNothingInTheNewOne()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        Assert.Equal(1, _guest.Deliver(Frame(Mac, 60, 1)));
        HostPacket old = Assert.Single(_guest.Drain());
        _guest.Post(Nvsp(RevokeReceiveBuffer, ReceivePageSet));
        Assert.Equal(1u, _guest.Request(Nvsp(SendReceiveBuffer, ReceiveGpadl, ReceivePageSet)).Word(1));
        _guest.Complete(old.Transaction);
        Assert.Equal(1, _guest.Vsp.Malformed);
        Assert.Equal(ReceiveSections, FreeSections(_guest));
    }

    [Fact]
    public void TruncatedAndUnknownNvspMessagesAreCounted()
    {
        _guest.Handshake();
        _guest.Post(VmBusPacketType.DataInband, 1, 5, [], []); // no message at all
        _guest.Post(VmBusPacketType.Completion, 0, 6, [], []);
        _guest.Post(VmBusPacketType.DataUsingTransferPages, 1, 7, [], Nvsp(SendRndisPacket, 0, 0, 0)); // a kind only the host sends
        Assert.Empty(_guest.Drain());
        Assert.Equal(3, _guest.Vsp.Malformed);

        HostPacket truncated = _guest.Request(Nvsp(Init, 0x60001)[..8]); // padded to 8 bytes, too short for an INIT: answered, but not as accepted
        Assert.NotEqual(InitComplete, truncated.Word(0));
        HostPacket unknown = _guest.Request(Nvsp(0x999, 1, 2, 3));
        Assert.Equal((0x999u, 0u), (unknown.Word(0), unknown.Word(1)));
        Assert.Equal(5, _guest.Vsp.Malformed);
    }

    [Fact]
    public void AfterASnapshotTheNewHostsAdapterCarriesOnWithoutAHandshakeAndTakesBackSectionsLentBeforeIt()
    {
        _guest.Handshake();
        _guest.InitialiseRndis(FilterDirected);
        var lent = new List<HostPacket>();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(1, _guest.Deliver(Frame(Mac, 60 + i, i)));
            lent.Add(Assert.Single(_guest.Drain())); // not completed when the VM stops to move
        }

        NetworkVspState saved = _guest.Vsp.SaveState();
        using var writer = new SnapshotWriter();
        writer.Add("net0", saved);
        NetworkVspState state = SnapshotReader.Open(writer.ToArray()).Read<NetworkVspState>("net0");
        Assert.Equal(saved with { SectionsInUse = state.SectionsInUse }, state);
        Assert.Equal(lent.Select(t => t.Range(0).Offset / 1728).Order(), state.SectionsInUse.Order());

        _guest.MoveTo(state);
        Assert.True(_guest.Vsp.Ready);
        byte[] frame = Frame(Mac, 200, 99);
        Assert.Equal(1, _guest.Deliver(frame));
        HostPacket after = Assert.Single(_guest.Drain());
        Assert.DoesNotContain(after.Range(0).Offset, lent.Select(t => t.Range(0).Offset));
        Assert.Equal(frame, _guest.Read(after)[44..]);
        _guest.Complete(after.Transaction);
        _guest.Complete(lent[2].Transaction);
        Assert.Equal(0, _guest.Vsp.Malformed);
        Assert.Equal(ReceiveSections - 4, FreeSections(_guest));

        // Its frames go out through the send buffer lent to the old host.
        byte[] sent = Frame(OtherMac, 80, 100);
        Assert.Equal(1u, _guest.SendInSection(0, GuestRndis.Packet(sent)).Status);
        Assert.Equal(sent, Assert.Single(_guest.Uplink.Frames));
    }

    [Fact]
    public void ARestoredStateIsTakenOnlyAsFarAsTheGuestsBuffersBearItOut()
    {
        using var writer = new SnapshotWriter();
        writer.Add("net0", new NetworkVspState(0x60001, ReceiveGpadl, ReceivePageSet, SendGpadl, 1, true, FilterDirected, new int[NetworkVsp.MaximumSections + 1]));
        Assert.Throws<SnapshotException>(() => SnapshotReader.Open(writer.ToArray()).Read<NetworkVspState>("net0"));

        // Sections that are no section, or named twice, are passed over.
        _guest.MoveTo(new NetworkVspState(0x60001, ReceiveGpadl, ReceivePageSet, SendGpadl, 1, true, FilterDirected, [-1, 5, 5, ReceiveSections, int.MaxValue]));
        Assert.True(_guest.Vsp.Ready);
        Assert.Equal(ReceiveSections - 1, FreeSections(_guest));

        // Buffers whose GPADLs the bus no longer has leave the adapter waiting for a new handshake.
        _guest.Gpadls.Remove(ReceiveGpadl);
        _guest.MoveTo(new NetworkVspState(0x60001, ReceiveGpadl, ReceivePageSet, SendGpadl, 1, true, FilterDirected, [0, 1]));
        Assert.False(_guest.Vsp.Ready);
        Assert.Equal(0, _guest.Deliver(Frame(Mac, 60, 1)));
    }

    private const int FuzzInputs = 100_000;

    private static readonly uint[] FuzzOids =
        [OidMaximumFrameSize, OidLinkSpeed, OidPacketFilter, OidMediaConnectStatus, OidReceiveScaleCapabilities, OidPermanentAddress, 0x0101_0102, 0x0101_0103, OidOffloadParameters, OidOffloadCapabilities, 0];

    [Fact]
    public void AHundredThousandRandomAndMutatedMessagesNeverThrowBreakTheChannelOrWriteOutsideTheBuffers()
    {
        var random = new Random(6001);
        var clock = Stopwatch.StartNew();
        var outstanding = new List<ulong>();
        var completed = new List<ulong>();
        long frames = 0;
        _guest.Handshake();
        _guest.InitialiseRndis(FilterPromiscuous);
        for (int i = 0; i < FuzzInputs; i++)
        {
            if (i % 5000 == 4999)
            {
                // Now and then the guest starts again (after revoking its buffers, say): close, open, negotiate.
                _guest.Reopen();
                outstanding.Clear();
                _guest.Handshake();
                _guest.InitialiseRndis(FilterPromiscuous);
            }
            switch (random.Next(16))
            {
                case < 2: FuzzNvsp(random); break;
                case < 9: FuzzRndis(random); break;
                case < 11: FuzzCompletion(random, outstanding, completed); break;
                case < 13: FuzzDeliver(random); break;
                default: FuzzRaw(random); break;
            }

            foreach (HostPacket packet in _guest.Drain())
            {
                if (packet.Type == VmBusPacketType.DataUsingTransferPages)
                {
                    _guest.Read(packet); // which checks its range is a section of the receive buffer
                    outstanding.Add(packet.Transaction);
                }
                else
                    Assert.Equal(VmBusPacketType.Completion, packet.Type);
            }
            // netvsc completes what it has taken, nearly always at once.
            while (outstanding.Count > 0 && random.Next(8) != 0)
            {
                int k = random.Next(outstanding.Count);
                _guest.Complete(outstanding[k]);
                completed.Add(outstanding[k]);
                outstanding.RemoveAt(k);
            }
            Assert.Null(_guest.Channel.Broken);
            foreach (byte[] frame in _guest.Uplink.Frames)
                Assert.InRange(frame.Length, 14, 1518);
            frames += _guest.Uplink.Frames.Count;
            _guest.Uplink.Frames.Clear();
            if (completed.Count > 64)
                completed.RemoveRange(0, 32);
        }
        output.WriteLine($"{FuzzInputs} inputs in {clock.Elapsed.TotalSeconds:F1} s: {frames} frames sent, {_guest.Vsp.ReceivedFrames} received, {_guest.Vsp.Malformed} malformed");
        // The fuzz reaches past the parsers' first checks: frames go both ways, and much is refused.
        Assert.True(frames > FuzzInputs / 20, $"{frames} frames sent");
        Assert.True(_guest.Vsp.ReceivedFrames > FuzzInputs / 50, $"{_guest.Vsp.ReceivedFrames} frames received");
        Assert.True(_guest.Vsp.Malformed > FuzzInputs / 10, $"{_guest.Vsp.Malformed} malformed");
    }

    /// <summary>An NVSP message of any type, fields as netvsc would fill them or not, in-band or with page ranges.</summary>
    private void FuzzNvsp(Random random)
    {
        uint[] types = [Init, InitComplete, SendNdisVersion, SendReceiveBuffer, RevokeReceiveBuffer, SendSendBuffer, RevokeSendBuffer,
            SendRndisPacket, SendRndisPacketComplete, SendNdisConfig, 129, 133, 0, (uint)random.Next(200), (uint)random.Next()];
        uint type = types[random.Next(types.Length)];
        if (type is RevokeReceiveBuffer or RevokeSendBuffer && random.Next(10) != 0)
            type = SendRndisPacket; // rarely, so that most of the run has its buffers
        uint[] versions = [0x30002, 0x40000, 0x50000, 0x60000, 0x60001, 2, 0x70000, (uint)random.Next()];
        byte[] message = Nvsp(type, type switch
        {
            Init => [versions[random.Next(versions.Length)], versions[random.Next(versions.Length)]],
            // Only the buffers' own handles, or none: a send buffer lent as the receive buffer is the guest's right, but not what the checks here expect.
            SendReceiveBuffer => [random.Next(2) == 0 ? ReceiveGpadl : 0x5000u + (uint)random.Next(100), ReceivePageSet],
            SendSendBuffer => [random.Next(2) == 0 ? SendGpadl : 0x5000u + (uint)random.Next(100), 0],
            SendRndisPacket => [(uint)random.Next(2), Interesting(random, SendSections), Interesting(random, 6144)],
            _ => [(uint)random.Next(), (uint)random.Next(), (uint)random.Next(), (uint)random.Next()],
        });
        if (random.Next(8) == 0)
            Array.Resize(ref message, random.Next(48));
        bool direct = random.Next(3) == 0;
        _guest.Post(direct ? VmBusPacketType.DataUsingGpaDirect : VmBusPacketType.DataInband, (ushort)random.Next(2), (ulong)random.NextInt64(),
            direct ? RandomRanges(random) : [], message);
    }

    /// <summary>One to three RNDIS messages, valid or mutated, in a send section, in page ranges, or in both.</summary>
    private void FuzzRndis(Random random)
    {
        byte[] bytes = RandomRndis(random);
        uint section = random.Next(16) == 0 ? Interesting(random, SendSections) : (uint)random.Next(SendSections);
        int inSection = random.Next(3) switch
        {
            0 => bytes.Length,
            1 => random.Next(bytes.Length + 1),
            _ => -1, // all in pages
        };
        inSection = Math.Min(inSection, 6144);
        if (inSection >= 0 && section < SendSections)
            _guest.WriteSendSection((int)section, bytes.AsSpan(0, inSection));
        uint sectionBytes = random.Next(16) == 0 ? Interesting(random, 6144) : (uint)Math.Max(inSection, 0);
        byte[] rest = bytes[Math.Max(inSection, 0)..];
        byte[] ranges = rest.Length > 0 || random.Next(4) == 0 ? PlaceInPages(random, rest) : [];
        if (ranges.Length > 0 && random.Next(8) == 0)
            ranges = MutateRanges(random, ranges);
        var type = ranges.Length > 0 || random.Next(16) == 0 ? VmBusPacketType.DataUsingGpaDirect : VmBusPacketType.DataInband;
        _guest.Post(type, (ushort)(random.Next(16) == 0 ? 0 : 1), (ulong)random.NextInt64(), ranges,
            Nvsp(SendRndisPacket, (uint)random.Next(2), inSection < 0 ? NoSection : section, sectionBytes));
    }

    /// <summary>The guest's completion of a transfer-page packet: one that is owed, one already made, or one for nothing.</summary>
    private void FuzzCompletion(Random random, List<ulong> outstanding, List<ulong> completed)
    {
        ulong transaction = random.Next(4) switch
        {
            0 when outstanding.Count > 0 => outstanding[random.Next(outstanding.Count)],
            1 when completed.Count > 0 => completed[random.Next(completed.Count)],
            2 => ((ulong)random.Next(4) << 32) | (uint)random.Next(ReceiveSections + 2),
            _ => (ulong)random.NextInt64(),
        };
        byte[] message = Nvsp(random.Next(8) == 0 ? (uint)random.Next(200) : SendRndisPacketComplete, (uint)random.Next(3));
        Array.Resize(ref message, random.Next(4) == 0 ? random.Next(16) : 8);
        _guest.Post(VmBusPacketType.Completion, 0, transaction, [], message);
    }

    private void FuzzDeliver(Random random)
    {
        MacAddress[] destinations = [Mac, OtherMac, Broadcast, Multicast];
        byte[][] frames = new byte[random.Next(1, 4)][];
        for (int f = 0; f < frames.Length; f++)
            frames[f] = Frame(destinations[random.Next(destinations.Length)], random.Next(8) == 0 ? random.Next(1600) : random.Next(14, 1519), random.Next());
        _guest.Deliver(frames);
    }

    /// <summary>A packet of any kind with random bytes between its descriptor and its data, and as its data.</summary>
    private void FuzzRaw(Random random)
    {
        ushort[] types = [6, 7, 9, 11, (ushort)random.Next(65536)];
        byte[] header = new byte[8 * random.Next(8)], data = new byte[random.Next(64)];
        random.NextBytes(header);
        random.NextBytes(data);
        _guest.Post((VmBusPacketType)types[random.Next(types.Length)], (ushort)random.Next(4), (ulong)random.NextInt64(), header, data);
    }

    private static byte[] RandomRndis(Random random)
    {
        var bytes = new List<byte>();
        for (int n = random.Next(1, 4); n > 0; n--)
        {
            uint id = (uint)random.Next();
            byte[] message = random.Next(9) switch
            {
                0 => GuestRndis.Init(id),
                1 => GuestRndis.Query(id, FuzzOids[random.Next(FuzzOids.Length)]),
                2 => GuestRndis.Set(id, FuzzOids[random.Next(FuzzOids.Length)], RandomBytes(random, random.Next(12))),
                3 => GuestRndis.KeepAlive(id),
                4 => random.Next(8) == 0 ? GuestRndis.Halt(id) : GuestRndis.Reset(),
                _ => GuestRndis.Packet(RandomBytes(random, random.Next(8) == 0 ? random.Next(1600) : random.Next(14, 1519)), align: random.Next(2) == 0 ? 8 : 1),
            };
            if (random.Next(3) == 0)
                Mutate(random, message);
            bytes.AddRange(message);
        }
        if (random.Next(16) == 0)
        {
            int end = random.Next(bytes.Count);
            bytes.RemoveRange(end, bytes.Count - end);
        }
        if (random.Next(16) == 0)
            bytes.AddRange(RandomBytes(random, random.Next(16)));
        return [.. bytes];
    }

    /// <summary>Overwrites a few of a message's words with values that sit on the edges of what its checks allow, or bytes at random.</summary>
    private static void Mutate(Random random, byte[] message)
    {
        for (int m = random.Next(1, 4); m > 0; m--)
        {
            if (random.Next(4) == 0)
            {
                message[random.Next(message.Length)] = (byte)random.Next(256);
                continue;
            }
            int at = 4 * random.Next(Math.Min(message.Length / 4, 12));
            uint value = random.Next(6) switch
            {
                0 => 0,
                1 => 0xFFFF_FFFF,
                2 => (uint)(message.Length + random.Next(-8, 9)),
                3 => (uint)random.Next(64),
                4 => Word(message, at) + (uint)random.Next(-4, 5),
                _ => (uint)random.Next(),
            };
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(at), value);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> into one to three ranges of data pages at random offsets, and returns those ranges.</summary>
    private byte[] PlaceInPages(Random random, byte[] bytes)
    {
        int count = Math.Min(random.Next(1, 4), Math.Max(bytes.Length, 1));
        var ranges = new (int Length, int Offset, ulong[] Pages)[count];
        int at = 0;
        for (int r = 0; r < count; r++)
        {
            int length = r == count - 1 ? bytes.Length - at : random.Next(bytes.Length - at + 1);
            int offset = random.Next(4096);
            ulong[] pages = new ulong[(offset + length + 4095) / 4096];
            for (int p = 0; p < pages.Length; p++)
                pages[p] = DataPage + (ulong)random.Next(128);
            int done = 0;
            for (int p = 0; p < pages.Length; p++)
            {
                int start = p == 0 ? offset : 0;
                int chunk = Math.Min(length - done, 4096 - start);
                _guest.Memory.Write((pages[p] * 4096) + (ulong)start, bytes.AsSpan(at + done, chunk));
                done += chunk;
            }
            ranges[r] = (length, offset, pages);
            at += length;
        }
        return Ranges(ranges);
    }

    /// <summary>Ranges of any lengths, offsets and pages, RAM or not.</summary>
    private static byte[] RandomRanges(Random random)
    {
        var ranges = new (int Length, int Offset, ulong[] Pages)[random.Next(4)];
        for (int r = 0; r < ranges.Length; r++)
        {
            int offset = random.Next(10) == 0 ? random.Next(4096, 8192) : random.Next(4096);
            int length = random.Next(10) == 0 ? random.Next(70_000) : random.Next(3000);
            ulong[] pages = new ulong[Math.Clamp(((offset + length + 4095) / 4096) + random.Next(-1, 2), 0, 20)];
            for (int p = 0; p < pages.Length; p++)
                pages[p] = RandomPage(random);
            ranges[r] = (length, offset, pages);
        }
        byte[] header = Ranges(ranges);
        return random.Next(8) == 0 ? MutateRanges(random, header) : header;
    }

    private static byte[] MutateRanges(Random random, byte[] header)
    {
        switch (random.Next(4))
        {
            case 0:
                return Patch(header, 4, (uint)random.Next(6));
            case 1:
                return header[..(8 * random.Next((header.Length / 8) + 1))];
            case 2 when header.Length > 16:
                return Patch(header, 8 + (8 * random.Next((header.Length - 8) / 8)), Interesting(random, 4096));
            default:
                int at = 8 * random.Next(header.Length / 8);
                BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(at), RandomPage(random));
                return header;
        }
    }

    private static ulong RandomPage(Random random) => random.Next(20) switch
    {
        0 => HolePage + (ulong)random.Next(0x100),
        1 => 0x10_0000 + (ulong)random.Next(0x1000),
        2 => (ulong)random.NextInt64(),
        3 => (1UL << 52) + DataPage,
        _ => DataPage + (ulong)random.Next(128),
    };

    /// <summary>A value at or near <paramref name="limit"/>, or one of the values every field should survive.</summary>
    private static uint Interesting(Random random, int limit) => random.Next(6) switch
    {
        0 => 0,
        1 => 0xFFFF_FFFF,
        2 => 0xFFFF_FFFE,
        3 => (uint)(limit + random.Next(-2, 3)),
        4 => (uint)random.Next(),
        _ => (uint)random.Next(limit + 1),
    };

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    // ---- Helpers ----

    private static byte[] Frame(MacAddress destination, int length, int seed)
    {
        byte[] frame = new byte[length];
        new Random(seed).NextBytes(frame);
        if (length >= MacAddress.Bytes)
            destination.Write(frame);
        return frame;
    }

    private static byte[] Le(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Patch(byte[] bytes, int at, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), value);
        return bytes;
    }

    private static uint[] Words(byte[] bytes) => [.. Enumerable.Range(0, bytes.Length / 4).Select(i => Word(bytes, 4 * i))];

    private static uint[] Words(HostPacket packet, int count) => [.. Enumerable.Range(0, count).Select(packet.Word)];

    private void WriteAcross(ulong page, ulong next, int offset, byte[] bytes)
    {
        int first = Math.Min(bytes.Length, 4096 - offset);
        _guest.Memory.Write((page * 4096) + (ulong)offset, bytes.AsSpan(0, first));
        _guest.Memory.Write(next * 4096, bytes.AsSpan(first));
    }

    /// <summary>How many frames the guest can be given before they are dropped, each in a section of its own (it completes none).</summary>
    /// <summary>The free receive sections: as many as frames can take, and the four frames leave for answers.</summary>
    private static int FreeSections(NetvscTestGuest guest)
    {
        var offsets = new HashSet<int>();
        while (guest.Deliver(Frame(Mac, 60, offsets.Count)) == 1)
            Assert.True(offsets.Add(Assert.Single(guest.Drain()).Range(0).Offset), "a section handed out twice");
        return offsets.Count + 4;
    }

    private (uint Status, byte[] Info) Query(uint oid)
    {
        uint id = _guest.NextRequestId();
        Sent sent = _guest.SendInSection(1, GuestRndis.Query(id, oid));
        Assert.Equal(1u, sent.Status);
        byte[] message = Assert.Single(sent.Messages);
        // Request id, status, the information's length, and its offset from the request id.
        Assert.Equal((RndisQuery | RndisCompletion, (uint)message.Length, id, 16u), (Word(message, 0), Word(message, 4), Word(message, 8), Word(message, 20)));
        Assert.Equal(24 + Word(message, 16), (uint)message.Length);
        return (Word(message, 12), message[24..]);
    }

    private void AssertQuery(uint oid, uint status, byte[] info)
    {
        (uint answered, byte[] answer) = Query(oid);
        Assert.Equal(status, answered);
        Assert.Equal(info, answer);
    }

    /// <summary>The frames in the guest's ring, in order, each a PACKET with the frame right after its fields; completes each.</summary>
    /// <summary>An RNDIS message in consecutive data pages, named in one range, as netvsc sends a large send.</summary>
    private Sent SendInPages(byte[] message)
    {
        int pages = (message.Length + 4095) / 4096;
        ulong[] list = [.. Enumerable.Range(0, pages).Select(p => DataPage + (ulong)p)];
        for (int p = 0; p < pages; p++)
            _guest.Memory.Write(list[p] * 4096, message.AsSpan(p * 4096, Math.Min(4096, message.Length - (p * 4096))));
        return _guest.SendRndis(VmBusPacketType.DataUsingGpaDirect, Ranges((message.Length, 0, list)), NoSection, 0);
    }

    private void AssertDelivered(params byte[][] frames)
    {
        List<HostPacket> transfers = _guest.Drain();
        Assert.Equal(frames.Length, transfers.Count);
        for (int i = 0; i < frames.Length; i++)
        {
            byte[] message = _guest.Read(transfers[i]);
            Assert.Equal([RndisPacket, 44u + (uint)frames[i].Length, 36u, (uint)frames[i].Length, 0u, 0u, 0u, 0u, 0u, 0u, 0u], Words(message[..44]));
            Assert.Equal(frames[i], message[44..]);
            _guest.Complete(transfers[i].Transaction);
        }
    }
}
