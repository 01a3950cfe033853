using System.Buffers.Binary;
using Actors.HwBackend.Tests.Devices;
using Actors.HwBackend.VmBus.IntegrationServices;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

public sealed class TimeSyncServiceTests : IDisposable
{
    private static readonly DateTimeOffset HostNow = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private readonly IcTestChannel _ic = new();
    private readonly ManualClock _clock = new();
    private readonly FixedTime _host = new(HostNow);
    private readonly TimeSyncService _timeSync;
    private int _deadlineChanges;

    public TimeSyncServiceTests()
    {
        _timeSync = new TimeSyncService(_clock, _host, () => _deadlineChanges++);
    }

    public void Dispose() => _ic.Dispose();

    private static (DateTimeOffset Host, ulong Reference, byte Flags) Sample(byte[] message)
    {
        ReadOnlySpan<byte> body = message.AsSpan(IcMessage.BodyOffset);
        Assert.Equal(IcMessage.TimeSync, IcMessage.Type(message));
        Assert.Equal(22, BodyBytes(message)); // version 4.0's sample
        return (new DateTimeOffset(DateTime.FromFileTimeUtc(BinaryPrimitives.ReadInt64LittleEndian(body))), BinaryPrimitives.ReadUInt64LittleEndian(body[8..]), body[16]);
    }

    /// <summary>The body's size as the header gives it (the packet is padded to 8 bytes).</summary>
    private static int BodyBytes(byte[] message) => BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(18));

    [Fact]
    public void TheGuestsClockIsSetOnceVersionsAreAgreedThenSampledEveryFiveSeconds()
    {
        _clock.Now = 3_000_000_000;
        _ic.OpenAndNegotiate(_timeSync);
        byte[] sync = _ic.GuestReceives();
        // The host's time and the guest's reference time (100 ns units) of the same instant, flagged SYNC.
        Assert.Equal((HostNow, 30_000_000UL, (byte)1), Sample(sync));
        Assert.Equal(8_000_000_000L, _timeSync.NextEventNanoseconds);
        Assert.Equal(1, _deadlineChanges);
        Assert.Equal("version 4.0, clock not set yet", _timeSync.Describe());
        _ic.GuestAnswers(_timeSync, sync);
        Assert.Equal(1, _timeSync.Syncs);
        Assert.Equal("version 4.0, clock set 1 times, last to 2026-12-06 12:00:00 UTC", _timeSync.Describe());

        _clock.Now = 8_000_000_000;
        _host.Now = HostNow.AddSeconds(5);
        _timeSync.FireDue(_clock.Now);
        Assert.Equal((HostNow.AddSeconds(5), 80_000_000UL, (byte)2), Sample(_ic.GuestReceives())); // SAMPLE: kept, not stepped to
        Assert.Equal(13_000_000_000L, _timeSync.NextEventNanoseconds);
    }

    [Fact]
    public void AfterAResyncTheNextSampleIsASyncAndItIsDueNow()
    {
        _ic.OpenAndNegotiate(_timeSync);
        _ic.GuestAnswers(_timeSync, _ic.GuestReceives());
        _clock.Now = 1_000_000_000;
        _timeSync.Resync();
        Assert.Equal(1_000_000_000L, _timeSync.NextEventNanoseconds);
        _timeSync.FireDue(_clock.Now);
        byte[] sync = _ic.GuestReceives();
        Assert.Equal(1, Sample(sync).Flags);
        _ic.GuestAnswers(_timeSync, sync);
        Assert.Equal(2, _timeSync.Syncs);
        // Acknowledged: later samples are samples again.
        _timeSync.FireDue(_clock.Now + 5_000_000_000);
        Assert.Equal(2, Sample(_ic.GuestReceives()).Flags);
    }

    [Fact]
    public void AVersion3GuestGetsTheOlderSampleAndBadAnswersCountForNothing()
    {
        _timeSync.Opened(_ic.Channel);
        byte[] negotiate = _ic.GuestReceives();
        // The guest picks 3.0: framework 3.0 first, then the service version, as Linux writes its choice.
        _ic.GuestAnswers(_timeSync, negotiate, m => BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(IcMessage.BodyOffset + 12), 3));
        Assert.Equal(3u << 16, _timeSync.Version);
        byte[] sync = _ic.GuestReceives();
        Assert.Equal(25, BodyBytes(sync));
        Assert.Equal(1, sync[IcMessage.BodyOffset + 24]);

        _ic.GuestAnswers(_timeSync, sync, m => BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(20), IcMessage.Failure));
        _ic.GuestAnswers(_timeSync, sync[..(IcMessage.BodyOffset + 10)]);
        Assert.Equal(0, _timeSync.Syncs);
    }

    [Fact]
    public void AVersionTheHostDidNotOfferIsNotAnAgreement()
    {
        _timeSync.Opened(_ic.Channel);
        _ic.GuestAnswers(_timeSync, _ic.GuestReceives(), m => BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(IcMessage.BodyOffset + 12), 9));
        Assert.False(_timeSync.Negotiated);
        Assert.Null(_ic.TryGuestReceives());
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
