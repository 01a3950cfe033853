using System.Buffers.Binary;
using Actors.HwBackend.Tests.Devices;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

public sealed class HeartbeatServiceTests : IDisposable
{
    private readonly IcTestChannel _ic = new();
    private readonly ManualClock _clock = new();
    private readonly HeartbeatService _heartbeat;

    public HeartbeatServiceTests()
    {
        _heartbeat = new HeartbeatService(_clock, () => { });
    }

    public void Dispose() => _ic.Dispose();

    private byte[] GuestReceives() => _ic.GuestReceives();

    private void GuestAnswers(byte[] message, Action<byte[]>? change = null, HeartbeatService? to = null) => _ic.GuestAnswers(to ?? _heartbeat, message, change);

    [Fact]
    public void OpeningNegotiatesAndAGuestThatAnswersIsCounted()
    {
        _heartbeat.Opened(_ic.Channel);
        byte[] negotiate = GuestReceives();
        Assert.Equal(IcMessage.Negotiate, IcMessage.Type(negotiate));
        Assert.Equal(1, _ic.Signals); // an empty ring got a packet: the guest is told
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
        _heartbeat.Opened(_ic.Channel);
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
        // The round trip is in host time, from the request to its answer: here, this test's own pace.
        Assert.Matches(@"^ok, 0\.5 s ago \(1 answers, round trip \d+\.\d\d ms\)$", _heartbeat.Describe());
        Assert.NotNull(_heartbeat.RoundTrip);
        _heartbeat.Closed();
        Assert.Null(_heartbeat.NextEventNanoseconds);
    }

    [Fact]
    public void AWrongOrShortAnswerIsNotCounted()
    {
        _heartbeat.Opened(_ic.Channel);
        GuestAnswers(GuestReceives());
        byte[] beat = GuestReceives();

        GuestAnswers(beat); // the same number back: not incremented
        GuestAnswers(beat[..30]); // cut short
        GuestAnswers(beat, m => m[25] = IcMessage.Transaction | IcMessage.Request); // not a response
        Assert.Equal(0, _heartbeat.Answers);

        // A negotiation the guest refuses (a non-zero status) leaves nothing to beat for.
        var refused = new HeartbeatService(_clock, () => { });
        refused.Opened(_ic.Channel);
        GuestAnswers(GuestReceives(), m => m[20] = 1, refused);
        Assert.False(refused.Negotiated);
        Assert.False(refused.Beat());
    }
}
