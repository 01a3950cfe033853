using System.Buffers.Binary;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Tests.Devices;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

public sealed class HeartbeatServiceTests : IDisposable
{
    private const ulong MiB = 1 << 20;

    private readonly GuestRam _ram = new(4 * MiB);
    private readonly GuestPhysicalMap _memory;
    private readonly SignalCounter _guest = new();
    private readonly VmBusRing _guestReads, _guestWrites; // the guest's ends of the two rings
    private readonly VmBusChannel _channel;
    private readonly ManualClock _clock = new();
    private readonly HeartbeatService _heartbeat;
    private readonly byte[] _packet = new byte[512];

    public HeartbeatServiceTests()
    {
        _memory = new GuestPhysicalMap(_ram);
        _memory.AddRam("low", 0, 2 * MiB, 0);
        ulong[] toHost = [0x100, 0x101, 0x102], toGuest = [0x103, 0x104, 0x105];
        _guestWrites = new VmBusRing(_memory, toHost);
        _guestReads = new VmBusRing(_memory, toGuest);
        _heartbeat = new HeartbeatService(_clock, () => { });
        _channel = new VmBusChannel(relid: 1, targetVp: 0, sint: 2, new VmBusRing(_memory, toHost), new VmBusRing(_memory, toGuest), _guest);
    }

    public void Dispose() => _ram.Dispose();

    /// <summary>The next message the guest finds in its ring (the IC header and body, after the packet descriptor).</summary>
    private byte[] GuestReceives()
    {
        int length = _guestReads.TryRead(_packet);
        Assert.True(length > 0, "a packet for the guest");
        int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(_packet.AsSpan(2)) * 8;
        return _packet[dataOffset..length];
    }

    /// <summary>What hv_utils does: flag the message as its response and send it back, then signal.</summary>
    private void GuestAnswers(byte[] message, Action<byte[]>? change = null, HeartbeatService? to = null)
    {
        message[25] = IcMessage.Transaction | IcMessage.Response;
        change?.Invoke(message);
        Assert.True(_guestWrites.TryWrite(VmBusChannel.InbandPacket, 0, 1, message, out _));
        (to ?? _heartbeat).Signalled(_channel);
    }

    [Fact]
    public void OpeningNegotiatesAndAGuestThatAnswersIsCounted()
    {
        _heartbeat.Opened(_channel);
        byte[] negotiate = GuestReceives();
        Assert.Equal(IcMessage.Negotiate, IcMessage.Type(negotiate));
        Assert.Equal(1, _guest.Signals); // an empty ring got a packet: the guest is told
        Assert.False(_heartbeat.Beat()); // nothing to beat for before the versions are agreed

        GuestAnswers(negotiate);
        Assert.True(_heartbeat.Negotiated);
        byte[] beat = GuestReceives();
        Assert.Equal(IcMessage.Heartbeat, IcMessage.Type(beat));
        ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(beat.AsSpan(IcMessage.BodyOffset));

        GuestAnswers(beat, m => BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(IcMessage.BodyOffset), sequence + 1));
        Assert.Equal(1, _heartbeat.Answers);
    }

    [Fact]
    public void OnceNegotiatedItBeatsEverySecondOfGuestTimeAndSaysHowLongAgoTheGuestAnswered()
    {
        Assert.Equal("no channel (the guest has not opened it)", _heartbeat.Describe());
        _heartbeat.Opened(_channel);
        Assert.Null(_heartbeat.NextEventNanoseconds);
        _clock.Now = 5_000_000_000;
        GuestAnswers(GuestReceives());
        Assert.Equal(6_000_000_000L, _heartbeat.NextEventNanoseconds);
        byte[] first = GuestReceives();
        Assert.Equal("no answer yet", _heartbeat.Describe());

        _clock.Now = 6_000_000_000;
        _heartbeat.FireDue(_clock.Now);
        Assert.Equal(7_000_000_000L, _heartbeat.NextEventNanoseconds);
        byte[] second = GuestReceives();
        ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(second.AsSpan(IcMessage.BodyOffset));
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(first.AsSpan(IcMessage.BodyOffset)) + 2, sequence);
        GuestAnswers(second, m => BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(IcMessage.BodyOffset), sequence + 1));

        _clock.Now = 6_500_000_000;
        Assert.Equal("ok: 1 answers, the last 0.5 s ago", _heartbeat.Describe());
        _heartbeat.Closed();
        Assert.Null(_heartbeat.NextEventNanoseconds);
    }

    [Fact]
    public void AWrongOrShortAnswerIsNotCounted()
    {
        _heartbeat.Opened(_channel);
        GuestAnswers(GuestReceives());
        byte[] beat = GuestReceives();

        GuestAnswers(beat); // the same number back: not incremented
        GuestAnswers(beat[..30]); // cut short
        GuestAnswers(beat, m => m[25] = IcMessage.Transaction | IcMessage.Request); // not a response
        Assert.Equal(0, _heartbeat.Answers);

        // A negotiation the guest refuses (a non-zero status) leaves nothing to beat for.
        var refused = new HeartbeatService(_clock, () => { });
        refused.Opened(_channel);
        GuestAnswers(GuestReceives(), m => m[20] = 1, refused);
        Assert.False(refused.Negotiated);
        Assert.False(refused.Beat());
    }

    private sealed class SignalCounter : IVmBusGuest
    {
        public int Signals { get; private set; }

        public int ProcessorCount => 1;

        public bool PostMessage(uint vp, int sint, ReadOnlySpan<byte> message) => true;

        public void SignalChannel(uint vp, int sint, uint relid) => Signals++;
    }
}
