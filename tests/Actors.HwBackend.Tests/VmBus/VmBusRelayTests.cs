using System.Buffers.Binary;
using Actors.HwBackend.Tests.Devices;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

/// <summary>
/// A device served from elsewhere: the VM's <see cref="VmBusRelay"/> on the channel, the VSP's
/// <see cref="VmBusRelayEndpoint"/> around a real heartbeat service, and the events and packets
/// carried between them by hand, as the grains carry them between silos.
/// </summary>
public sealed class VmBusRelayTests : IDisposable
{
    private readonly IcTestChannel _ic = new(dataPages: 8);
    private readonly HeartbeatService _heartbeat = new(new ManualClock(), () => { });
    private readonly VmBusRelay _relay;
    private readonly VmBusRelayEndpoint _endpoint;
    private int _wakes;

    public VmBusRelayTests()
    {
        _relay = new VmBusRelay(IntegrationService.MaxPacketBytes, () => _wakes++);
        _endpoint = new VmBusRelayEndpoint(1, _heartbeat);
    }

    public void Dispose() => _ic.Dispose();

    /// <summary>What the VM's worker and the VSP grain do on a wake: events to the VSP, its packets back into the ring.</summary>
    private int Carry()
    {
        var events = new List<VmBusRelayEvent>();
        if (!_relay.TakeEvents(events))
            return 0;
        VmBusRelayPacket[] packets = _endpoint.Apply(events);
        return _endpoint.Epoch is { } epoch ? _relay.Send(epoch, packets) : 0;
    }

    [Fact]
    public void AHeartbeatServedThroughTheRelayNegotiatesAndIsAnsweredAsIfItWereLocal()
    {
        _relay.Opened(_ic.Channel);
        Assert.Equal(1, _wakes);
        Assert.Equal(1, Carry());
        byte[] negotiate = _ic.GuestReceives();
        Assert.Equal(IcMessage.Negotiate, IcMessage.Type(negotiate));

        _ic.GuestAnswers(_relay, negotiate);
        Assert.Equal(1, Carry()); // the first beat, sent as soon as versions are agreed
        Assert.True(_heartbeat.Negotiated);
        byte[] beat = _ic.GuestReceives();
        ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(beat.AsSpan(IcMessage.BodyOffset));
        _ic.GuestAnswers(_relay, beat, m => BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(IcMessage.BodyOffset), sequence + 1));
        Assert.Equal(0, Carry());
        Assert.Equal(1, _heartbeat.Answers);
        Assert.NotNull(_heartbeat.RoundTrip);

        // A request the VSP makes by itself (its timer) goes the same way.
        Assert.True(_heartbeat.Beat());
        Assert.Equal(1, _relay.Send(_endpoint.Epoch!.Value, _endpoint.TakeUnsent()));
        Assert.Equal(IcMessage.Heartbeat, IcMessage.Type(_ic.GuestReceives()));
        Assert.Equal(0, _relay.Refused);
    }

    [Fact]
    public void PacketsMeantForAnEarlierOpenAreNotWrittenIntoTheNextOne()
    {
        _relay.Opened(_ic.Channel);
        Carry();
        _ic.GuestReceives();
        int first = _endpoint.Epoch!.Value;
        _relay.Closed();
        _relay.Opened(_ic.Channel);

        Assert.Equal(0, _relay.Send(first, [new VmBusRelayPacket(9, new byte[40])]));
        Assert.Equal(1, _relay.Refused);
        Assert.Null(_ic.TryGuestReceives());

        // The VSP then hears of the close and the new open, and negotiates on it.
        Assert.Equal(1, Carry());
        Assert.NotEqual(first, _endpoint.Epoch);
        Assert.Equal(IcMessage.Negotiate, IcMessage.Type(_ic.GuestReceives()));
    }

    [Fact]
    public void AGuestThatFloodsTheChannelWhileTheVspIsAwayCostsABoundedQueue()
    {
        _relay.Opened(_ic.Channel);
        for (int batch = 0; batch < 3; batch++)
        {
            for (int i = 0; i < 100; i++)
                Assert.True(_ic.GuestWrites(new byte[8]));
            _relay.Signalled(_ic.Channel);
        }

        var events = new List<VmBusRelayEvent>();
        Assert.True(_relay.TakeEvents(events));
        Assert.Equal(VmBusRelayEventKind.Opened, events[0].Kind);
        Assert.Equal(VmBusRelay.MaxWaitingPackets, events.Count(e => e.Kind == VmBusRelayEventKind.Packet));
        Assert.Equal(300 - VmBusRelay.MaxWaitingPackets, _relay.Dropped);
        Assert.False(_relay.TakeEvents(events));
    }

    [Fact]
    public void AVspThatLostTrackIsToldOfTheOpenChannelAgainUnderANewEpoch()
    {
        Assert.False(_relay.Resynchronize()); // nothing open: nothing to tell
        _relay.Opened(_ic.Channel);
        Carry();
        _ic.GuestReceives();
        int before = _endpoint.Epoch!.Value;

        _endpoint.Lose();
        Assert.False(_heartbeat.Open);
        Assert.True(_relay.Resynchronize());
        Assert.Equal(1, Carry());
        Assert.True(_endpoint.Epoch > before);
        Assert.Equal(IcMessage.Negotiate, IcMessage.Type(_ic.GuestReceives()));
    }

    [Fact]
    public void TheRelayedChannelDropsAPacketLongerThanTheReadersBufferAndBoundsWhatWaitsToBeSent()
    {
        var channel = new RelayedChannel(relid: 3, epoch: 1);
        channel.Deliver(new byte[64]);
        channel.Deliver(new byte[16]);
        Span<byte> buffer = stackalloc byte[32];
        Assert.Equal(16, channel.TryReceive(buffer));
        Assert.Equal(0, channel.TryReceive(buffer));

        for (int i = 0; i < RelayedChannel.MaxUnsentPackets; i++)
            Assert.True(channel.TrySend((ulong)i, [1, 2, 3]));
        Assert.False(channel.TrySend(0, [4]));
        Assert.Equal(RelayedChannel.MaxUnsentPackets, channel.TakeUnsent().Length);
        Assert.Empty(channel.TakeUnsent());
    }
}
