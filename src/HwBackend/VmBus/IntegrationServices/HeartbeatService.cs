using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>
/// The host's end of the heartbeat integration service (version 3.0). Once the guest agrees on
/// versions, it sends a sequence number every <see cref="Interval"/> of guest time (the platform
/// timer thread calls it, so a paused VM is not asked), which a live guest (Linux's hv_utils)
/// returns incremented. An answer with the wrong number or too short is not counted. The time from
/// a request to its answer, in host time, is the service's round trip: where the VSP runs shows in it.
/// </summary>
public sealed class HeartbeatService : IntegrationService, ITimedDevice
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private const int BodyBytes = 40; // the sequence number and 32 reserved bytes

    private readonly IPlatformClock _clock;
    private readonly Action _deadlinesChanged;
    private ulong _sequence;
    private long _nextBeat = long.MaxValue;
    private long? _lastAnswer;
    private long _sentAt; // Stopwatch ticks of the latest request
    private readonly TimeSpan[] _roundTrips = new TimeSpan[RoundTripSamples];
    private int _roundTripCount;

    /// <summary>How many of the latest round trips <see cref="RoundTrip"/> is the median of.</summary>
    public const int RoundTripSamples = 15;

    /// <param name="deadlinesChanged">Tells the platform timer thread that the next beat moved; called outside the lock.</param>
    public HeartbeatService(IPlatformClock clock, Action deadlinesChanged)
        : base(3 << 16)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(deadlinesChanged);
        _clock = clock;
        _deadlinesChanged = deadlinesChanged;
    }

    /// <summary>Heartbeats the guest answered correctly since the channel opened.</summary>
    public long Answers { get; private set; }

    public long? NextEventNanoseconds
    {
        get { lock (Lock) return _nextBeat == long.MaxValue ? null : _nextBeat; }
    }

    public void FireDue(long now)
    {
        lock (Lock)
        {
            _nextBeat = Negotiated ? now + (long)Interval.TotalNanoseconds : long.MaxValue;
            BeatLocked();
        }
    }

    /// <summary>What <c>vm show</c> and <c>vm list</c> say: whether the guest answers, how long ago it last did (in guest time), and how often it has.</summary>
    public string Describe()
    {
        lock (Lock)
        {
            if (NotNegotiatedLocked() is { } state)
                return state;
            if (_lastAnswer is not { } last)
                return "no answer yet";
            double ago = (_clock.NowNanoseconds - last) / 1e9;
            return string.Create(CultureInfo.InvariantCulture, $"ok, {ago:F1} s ago ({Answers} answers, round trip {RoundTripLocked()!.Value.TotalMilliseconds:F2} ms)");
        }
    }

    /// <summary>The median of the latest answered requests' round trips (host time from request to answer); null before the first answer.</summary>
    public TimeSpan? RoundTrip
    {
        get { lock (Lock) return RoundTripLocked(); }
    }

    /// <summary>Asks the guest for a heartbeat; false when the channel is not open and negotiated, or its ring is full.</summary>
    public bool Beat()
    {
        lock (Lock)
            return BeatLocked();
    }

    protected override void OnOpenedLocked() => (Answers, _lastAnswer, _roundTripCount) = (0, null, 0);

    protected override void OnNegotiatedLocked()
    {
        BeatLocked();
        _nextBeat = _clock.NowNanoseconds + (long)Interval.TotalNanoseconds;
    }

    protected override void AfterNegotiated() => _deadlinesChanged();

    protected override void OnAnswerLocked(ushort type, uint status, ReadOnlySpan<byte> body)
    {
        if (type == IcMessage.Heartbeat && body.Length >= BodyBytes && BinaryPrimitives.ReadUInt64LittleEndian(body) == _sequence + 1)
        {
            _roundTrips[Answers % RoundTripSamples] = Stopwatch.GetElapsedTime(_sentAt);
            _roundTripCount = (int)Math.Min(_roundTripCount + 1, RoundTripSamples);
            Answers++;
            _lastAnswer = _clock.NowNanoseconds;
        }
    }

    protected override void OnClosedLocked() => _nextBeat = long.MaxValue;

    private bool BeatLocked()
    {
        _sequence += 2; // the guest's answers are odd, our requests even
        Span<byte> body = stackalloc byte[BodyBytes];
        body.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(body, _sequence);
        _sentAt = Stopwatch.GetTimestamp();
        return SendLocked(IcMessage.Heartbeat, body);
    }

    private TimeSpan? RoundTripLocked()
    {
        if (_roundTripCount == 0)
            return null;
        Span<TimeSpan> samples = stackalloc TimeSpan[_roundTripCount];
        _roundTrips.AsSpan(0, _roundTripCount).CopyTo(samples);
        samples.Sort();
        return samples[_roundTripCount / 2];
    }
}
