using System.Buffers.Binary;
using System.Globalization;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>
/// The host's end of the time synchronization integration service (versions 4.0 and 3.0, as
/// Linux's hv_utils offers them). It tells the guest the host's UTC time, paired with the guest's
/// reference time (TIME_REF_COUNT) at the same instant so that the guest can add how long the
/// message took to arrive. A SYNC sample makes Linux set its clock: one goes when the guest agrees
/// on versions and after <see cref="Resync"/> (the VM resumed or arrived from a migration, and
/// its clock stood still meanwhile); between them, a SAMPLE every <see cref="SampleInterval"/>
/// of guest time, which Linux keeps for its PTP clock without stepping the time.
/// </summary>
public sealed class TimeSyncService : IntegrationService, ITimedDevice
{
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(5);

    private const uint Version4 = 4 << 16, Version3 = 3 << 16;
    private const byte SyncFlag = 1, SampleFlag = 2;
    private const int Version4BodyBytes = 22; // host time, reference time, flags, leap flags, stratum, 3 reserved
    private const int Version3BodyBytes = 25; // host time, child time, round trip, flags

    private static readonly long MaxFileTime = DateTime.MaxValue.ToFileTimeUtc();

    private readonly IPlatformClock _clock;
    private readonly TimeProvider _host;
    private readonly Action _deadlinesChanged;
    private long _nextSample = long.MaxValue;
    private bool _syncDue;

    /// <param name="host">The host's wall clock, what the guest is set to.</param>
    /// <param name="deadlinesChanged">Tells the platform timer thread that the next sample moved; called outside the lock.</param>
    public TimeSyncService(IPlatformClock clock, TimeProvider host, Action deadlinesChanged)
        : base(Version4, Version3)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(deadlinesChanged);
        _clock = clock;
        _host = host;
        _deadlinesChanged = deadlinesChanged;
    }

    /// <summary>SYNC samples the guest acknowledged: each one set its clock.</summary>
    public long Syncs { get; private set; }

    /// <summary>The host time sent in the last acknowledged SYNC, or null.</summary>
    public DateTimeOffset? LastSync { get; private set; }

    public long? NextEventNanoseconds
    {
        get { lock (Lock) return _nextSample == long.MaxValue ? null : _nextSample; }
    }

    public void FireDue(long now)
    {
        lock (Lock)
        {
            _nextSample = Negotiated ? now + (long)SampleInterval.TotalNanoseconds : long.MaxValue;
            SendSampleLocked(_syncDue ? SyncFlag : SampleFlag);
        }
    }

    /// <summary>
    /// Sets the guest's clock again at the next sample, which is now: the VM's clock stood still
    /// while it was paused or moving between hosts, and the host's did not. If the guest has not
    /// agreed on versions yet, its first sample is a SYNC anyway.
    /// </summary>
    public void Resync()
    {
        lock (Lock)
        {
            _syncDue = true;
            if (!Negotiated)
                return;
            _nextSample = _clock.NowNanoseconds;
        }
        _deadlinesChanged();
    }

    /// <summary>What <c>vm show</c> says: when the guest's clock was last set, and to what.</summary>
    public string Describe()
    {
        lock (Lock)
        {
            if (NotNegotiatedLocked() is { } state)
                return state;
            string version = Version == Version4 ? "4.0" : "3.0";
            return LastSync is { } last
                ? string.Create(CultureInfo.InvariantCulture, $"version {version}, clock set {Syncs} times, last to {last:yyyy-MM-dd HH:mm:ss} UTC")
                : $"version {version}, clock not set yet";
        }
    }

    protected override void OnNegotiatedLocked()
    {
        _syncDue = true;
        SendSampleLocked(SyncFlag);
        _nextSample = _clock.NowNanoseconds + (long)SampleInterval.TotalNanoseconds;
    }

    protected override void AfterNegotiated() => _deadlinesChanged();

    protected override void OnAnswerLocked(ushort type, uint status, ReadOnlySpan<byte> body)
    {
        // The guest echoes the sample; a SYNC it took (status 0) is a clock set.
        if (type != IcMessage.TimeSync || status != 0 || body.Length < Version4BodyBytes)
            return;
        int flagsOffset = Version == Version4 ? 16 : 24;
        if (body.Length <= flagsOffset || body[flagsOffset] != SyncFlag)
            return;
        Syncs++;
        long fileTime = BinaryPrimitives.ReadInt64LittleEndian(body);
        LastSync = fileTime >= 0 && fileTime <= MaxFileTime ? new DateTimeOffset(DateTime.FromFileTimeUtc(fileTime)) : null;
        _syncDue = false;
    }

    protected override void OnClosedLocked() => _nextSample = long.MaxValue;

    private void SendSampleLocked(byte flags)
    {
        // Host time (Windows file time, 100 ns since 1601 UTC) and reference time are read together,
        // so that the guest's correction for the delivery delay is right.
        long hostTime = _host.GetUtcNow().ToFileTime();
        ulong referenceTime = (ulong)_clock.NowNanoseconds / 100;
        Span<byte> body = stackalloc byte[Version3BodyBytes];
        body.Clear();
        BinaryPrimitives.WriteInt64LittleEndian(body, hostTime);
        if (Version == Version4)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(body[8..], referenceTime);
            body[16] = flags;
            SendLocked(IcMessage.TimeSync, body[..Version4BodyBytes]);
        }
        else
        {
            body[24] = flags; // version 3 has no reference time: the guest reads its own on arrival
            SendLocked(IcMessage.TimeSync, body);
        }
    }
}
