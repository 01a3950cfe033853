using System.Buffers;
using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>
/// The host's end of the key-value pair exchange (KVP), versions 4.0 and 3.0, as Linux's hv_utils
/// and its hv_kvp_daemon answer it. Once the guest agrees on versions, the host reads the guest's
/// auto pool (what the guest says about itself: FullyQualifiedDomainName, OSName, OSVersion,
/// NetworkAddressIPv4, ...) by enumerating index 0, 1, 2, ... until the guest answers with a failure
/// status, and again every <see cref="EnumerationInterval"/> of guest time; <see cref="Push"/> sets
/// a key in the guest's external pool. Linux serves one request at a time, so one is outstanding
/// here, and one the guest leaves unanswered for <see cref="RequestTimeout"/> is abandoned.
/// Everything in an answer is untrusted: an answer that matches no outstanding request, or whose
/// sizes, strings or type break the message layout, is counted and ignored; at most
/// <see cref="MaxGuestValues"/> values of bounded length are kept.
/// </summary>
/// <remarks>
/// A Linux guest whose hv_kvp_daemon is not running does not even answer the negotiation (hv_kvp
/// leaves the channel unread until a daemon registers), so such a VM simply stays "negotiating".
/// </remarks>
public sealed class KvpService : IntegrationService, ITimedDevice
{
    public static readonly TimeSpan EnumerationInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longer than the 30 s after which Linux itself fails a request its daemon has not answered,
    /// so that a guest with a stuck daemon reports the failure, and only a guest that stopped
    /// reading its channel is given up on.
    /// </summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(35);

    /// <summary>How many auto-pool entries one enumeration asks for and keeps at most.</summary>
    public const int MaxGuestValues = 64;

    /// <summary>How many pushes wait for the guest at most; a push of a key already waiting replaces its value.</summary>
    public const int MaxQueuedPushes = 16;

    /// <summary>The key field: UTF-16, in bytes, the terminating NUL included (HV_KVP_EXCHANGE_MAX_KEY_SIZE).</summary>
    public const int MaxKeyBytes = 512;

    /// <summary>The value field: UTF-16, in bytes, the terminating NUL included (HV_KVP_EXCHANGE_MAX_VALUE_SIZE).</summary>
    public const int MaxValueBytes = 2048;

    public const string HostNameKey = "FullyQualifiedDomainName";

    // hv_kvp_msg: operation @0, pool @1, two bytes of padding, then the operation's body @4. SET's
    // body is an exchange value; ENUMERATE's is the index followed by one. An exchange value is
    // value_type @0, key_size @4, value_size @8, key @12, value @12 + 512 (sizes in bytes).
    private const byte OperationSet = 1;
    private const byte OperationEnumerate = 3;
    private const byte ExternalPool = 0; // KVP_POOL_EXTERNAL: what the host sets
    private const byte AutoPool = 2; // KVP_POOL_AUTO: what the guest says about itself
    private const uint StringValue = 1; // REG_SZ
    private const int ExchangeKey = 12;
    private const int ExchangeValue = ExchangeKey + MaxKeyBytes;
    private const int ExchangeBytes = ExchangeValue + MaxValueBytes;
    private const int SetBodyBytes = 4 + ExchangeBytes;
    private const int EnumerateBodyBytes = 8 + ExchangeBytes;

    /// <summary>What identifies a SET's answer: the header and the exchange value up to the end of the key, which the guest sends back as it got them.</summary>
    private const int SetIdentityBytes = 4 + ExchangeValue;

    private readonly IPlatformClock _clock;
    private readonly Action _deadlinesChanged;
    private readonly byte[] _request = new byte[EnumerateBodyBytes]; // the outstanding request's body, to match its answer
    private readonly List<KeyValuePair<string, string>> _pushes = [];
    private Outstanding _outstanding;
    private KeyValuePair<string, string> _sentPush; // the outstanding SET's, to queue again if the channel closes first
    private long _deadline;
    private bool _enumerating;
    private uint _nextIndex;
    private Dictionary<string, string> _gathered = new(StringComparer.Ordinal);
    private ReadOnlyDictionary<string, string> _values = ReadOnlyDictionary<string, string>.Empty;
    private long _nextEnumeration = long.MaxValue;
    private long? _lastEnumeration;

    /// <param name="deadlinesChanged">Tells the platform timer thread that a deadline moved; called outside the lock.</param>
    public KvpService(IPlatformClock clock, Action deadlinesChanged)
        : base(4 << 16, 3 << 16)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(deadlinesChanged);
        _clock = clock;
        _deadlinesChanged = deadlinesChanged;
    }

    private enum Outstanding
    {
        None,
        Enumerate,
        Set,
    }

    /// <summary>What the guest reported in its last complete enumeration: an unchanging snapshot, empty before the first.</summary>
    public IReadOnlyDictionary<string, string> GuestValues
    {
        get { lock (Lock) return _values; }
    }

    /// <summary>Enumerations the guest completed since the service was made.</summary>
    public long Enumerations { get; private set; }

    /// <summary>Pushes the guest answered with success.</summary>
    public long PushesDelivered { get; private set; }

    /// <summary>Pushes the guest answered with a failure, or never answered.</summary>
    public long PushesFailed { get; private set; }

    /// <summary>Requests abandoned because the guest did not answer within <see cref="RequestTimeout"/>.</summary>
    public long TimedOutRequests { get; private set; }

    /// <summary>Answers ignored: of another type, matching no outstanding request, or breaking the message layout.</summary>
    public long IgnoredAnswers { get; private set; }

    /// <summary>Pushes waiting for their turn.</summary>
    public int QueuedPushes
    {
        get { lock (Lock) return _pushes.Count; }
    }

    public long? NextEventNanoseconds
    {
        get
        {
            lock (Lock)
            {
                long next = _outstanding == Outstanding.None ? _nextEnumeration : Math.Min(_nextEnumeration, _deadline);
                return next == long.MaxValue ? null : next;
            }
        }
    }

    public void FireDue(long now)
    {
        lock (Lock)
        {
            if (_outstanding != Outstanding.None && now >= _deadline)
            {
                TimedOutRequests++;
                if (_outstanding == Outstanding.Set)
                    PushesFailed++;
                else
                    _enumerating = false; // the values of the last complete enumeration stay
                _outstanding = Outstanding.None;
            }
            if (Negotiated && now >= _nextEnumeration)
            {
                // A guest still busy with the previous enumeration (slow, or its ring full) finishes that one first.
                if (!_enumerating)
                    StartEnumerationLocked();
                _nextEnumeration = now + (long)EnumerationInterval.TotalNanoseconds;
            }
            SendNextLocked(now);
        }
    }

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/> in the guest's external pool (where
    /// Linux's daemon keeps it in /var/lib/hyperv/.kvp_pool_0), after any outstanding request and
    /// the pushes before it; a push before the guest has agreed on versions waits for it. Returns
    /// false when <see cref="MaxQueuedPushes"/> are already waiting.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty, or either string has a NUL or a lone surrogate, or does not fit its field in UTF-16 or in the guest's UTF-8.</exception>
    public bool Push(string key, string value)
    {
        CheckText(key, nameof(key), MaxKeyBytes);
        CheckText(value, nameof(value), MaxValueBytes);
        if (key.Length == 0)
            throw new ArgumentException("the key is empty; the guest keeps values by name", nameof(key));
        lock (Lock)
        {
            int waiting = _pushes.FindIndex(p => p.Key == key);
            if (waiting >= 0)
                _pushes[waiting] = new(key, value);
            else if (_pushes.Count >= MaxQueuedPushes)
                return false;
            else
                _pushes.Add(new(key, value));
            SendNextLocked(_clock.NowNanoseconds);
        }
        _deadlinesChanged();
        return true;
    }

    /// <summary>The pushes the guest has not confirmed, in the order they will go: the outstanding one (if unanswered) first.</summary>
    public KvpServiceState SaveState()
    {
        lock (Lock)
        {
            var pushes = new List<KeyValuePair<string, string>>(_pushes.Count + 1);
            if (_outstanding == Outstanding.Set && !_pushes.Exists(p => p.Key == _sentPush.Key))
                pushes.Add(_sentPush);
            pushes.AddRange(_pushes);
            return new KvpServiceState(pushes);
        }
    }

    /// <summary>Why <paramref name="state"/> cannot be restored (a push the service would have refused), or null.</summary>
    public static string? FindRestoreProblem(KvpServiceState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach ((string key, string value) in state.Pushes)
        {
            try
            {
                CheckText(key, nameof(key), MaxKeyBytes);
                CheckText(value, nameof(value), MaxValueBytes);
            }
            catch (ArgumentException e)
            {
                return $"a waiting push: {e.Message}";
            }
            if (key.Length == 0)
                return "a waiting push has an empty key";
        }
        return null;
    }

    /// <summary>
    /// Takes the pushes a VM's previous host still owed the guest; they go once the guest agrees on
    /// versions on the restored channel. Call before the bus is restored, which reopens the channel.
    /// </summary>
    public void RestoreState(KvpServiceState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (Lock)
        {
            _pushes.Clear();
            _pushes.AddRange(state.Pushes);
        }
    }

    /// <summary>What <c>vm show</c> says: how many values the guest reported, its host name, and how long ago (in guest time).</summary>
    public string Describe()
    {
        lock (Lock)
        {
            if (NotNegotiatedLocked("negotiating (Linux answers once its hv_kvp_daemon runs)") is { } state)
                return state;
            if (_lastEnumeration is not { } last)
                return "no data yet";
            string name = _values.TryGetValue(HostNameKey, out string? fqdn) ? Printable(fqdn) : "unknown";
            double ago = (_clock.NowNanoseconds - last) / 1e9;
            string line = string.Create(CultureInfo.InvariantCulture, $"ok: {_values.Count} values, host name {name}, enumerated {ago:F1} s ago");
            return TimedOutRequests == 0 ? line : string.Create(CultureInfo.InvariantCulture, $"{line}, {TimedOutRequests} requests timed out");
        }
    }

    protected override void OnOpenedLocked()
    {
        // A newly opened channel is a new guest session (a reboot, a reloaded driver): what the last one said is gone.
        (_outstanding, _enumerating, _values, _lastEnumeration) = (Outstanding.None, false, ReadOnlyDictionary<string, string>.Empty, null);
    }

    protected override void OnNegotiatedLocked()
    {
        long now = _clock.NowNanoseconds;
        StartEnumerationLocked();
        _nextEnumeration = now + (long)EnumerationInterval.TotalNanoseconds;
        SendNextLocked(now);
    }

    protected override void AfterNegotiated() => _deadlinesChanged();

    protected override void OnAnswerLocked(ushort type, uint status, ReadOnlySpan<byte> body)
    {
        if (type != IcMessage.KeyValuePair || !AnswersOutstandingLocked(body))
        {
            IgnoredAnswers++;
            return;
        }
        Outstanding answered = _outstanding;
        _outstanding = Outstanding.None;
        long now = _clock.NowNanoseconds;
        if (answered == Outstanding.Set)
        {
            if (status == 0)
                PushesDelivered++;
            else
                PushesFailed++;
        }
        else if (status != 0)
        {
            // Linux's daemon answers HV_S_CONT past its last entry; any failure ends the enumeration.
            EndEnumerationLocked(now);
        }
        else
        {
            TakeEnumeratedLocked(body.Slice(8, ExchangeBytes));
            if (++_nextIndex == MaxGuestValues)
                EndEnumerationLocked(now);
        }
        SendNextLocked(now);
    }

    protected override void OnClosedLocked()
    {
        // Whether the guest stored a push it had not answered is unknown: it goes again, first, to the
        // guest that opens the channel next, unless a newer value of its key is waiting already.
        if (_outstanding == Outstanding.Set && !_pushes.Exists(p => p.Key == _sentPush.Key))
        {
            if (_pushes.Count < MaxQueuedPushes)
                _pushes.Insert(0, _sentPush);
            else
                PushesFailed++;
        }
        (_outstanding, _enumerating, _nextEnumeration) = (Outstanding.None, false, long.MaxValue);
    }

    private void StartEnumerationLocked()
    {
        _enumerating = true;
        _nextIndex = 0;
        _gathered = new Dictionary<string, string>(StringComparer.Ordinal);
    }

    private void EndEnumerationLocked(long now)
    {
        // _gathered is never written again: a new enumeration starts a new dictionary, so the snapshot handed out stays as it was.
        _values = new ReadOnlyDictionary<string, string>(_gathered);
        _enumerating = false;
        _lastEnumeration = now;
        Enumerations++;
    }

    /// <summary>Sends the next request if none is outstanding: waiting pushes first, then the enumeration's next index.</summary>
    private void SendNextLocked(long now)
    {
        if (_outstanding != Outstanding.None || !Negotiated)
            return;
        Span<byte> body;
        Outstanding kind;
        if (_pushes.Count > 0)
        {
            body = _request.AsSpan(0, SetBodyBytes);
            body.Clear();
            body[0] = OperationSet;
            body[1] = ExternalPool;
            WriteStringValue(body[4..], _pushes[0].Key, _pushes[0].Value);
            kind = Outstanding.Set;
        }
        else if (_enumerating)
        {
            body = _request.AsSpan(0, EnumerateBodyBytes);
            body.Clear();
            body[0] = OperationEnumerate;
            body[1] = AutoPool;
            BinaryPrimitives.WriteUInt32LittleEndian(body[4..], _nextIndex);
            kind = Outstanding.Enumerate;
        }
        else
        {
            return;
        }

        // A full ring (a guest that stopped reading) keeps the work where it is; the next timer event tries again.
        if (!SendLocked(IcMessage.KeyValuePair, body))
            return;
        if (kind == Outstanding.Set)
        {
            _sentPush = _pushes[0];
            _pushes.RemoveAt(0);
        }
        (_outstanding, _deadline) = (kind, now + (long)RequestTimeout.TotalNanoseconds);
    }

    /// <summary>Whether <paramref name="body"/> is the answer to the outstanding request: the guest sends the request back with the operation, pool and index (ENUMERATE) or key (SET) as they were.</summary>
    private bool AnswersOutstandingLocked(ReadOnlySpan<byte> body) => _outstanding switch
    {
        Outstanding.Enumerate => body.Length >= EnumerateBodyBytes && body[..8].SequenceEqual(_request.AsSpan(0, 8)),
        Outstanding.Set => body.Length >= SetBodyBytes && body[..SetIdentityBytes].SequenceEqual(_request.AsSpan(0, SetIdentityBytes)),
        _ => false,
    };

    private void TakeEnumeratedLocked(ReadOnlySpan<byte> exchange)
    {
        uint valueType = BinaryPrimitives.ReadUInt32LittleEndian(exchange);
        uint keySize = BinaryPrimitives.ReadUInt32LittleEndian(exchange[4..]);
        uint valueSize = BinaryPrimitives.ReadUInt32LittleEndian(exchange[8..]);
        int keyUnits = TextUnits(exchange.Slice(ExchangeKey, MaxKeyBytes), keySize);
        int valueUnits = TextUnits(exchange.Slice(ExchangeValue, MaxValueBytes), valueSize);
        if (valueType != StringValue || keyUnits <= 0 || valueUnits < 0)
        {
            IgnoredAnswers++;
            return;
        }
        string key = Encoding.Unicode.GetString(exchange.Slice(ExchangeKey, 2 * keyUnits));
        _gathered[key] = _values.TryGetValue(key, out string? known) && SameText(known, exchange.Slice(ExchangeValue, 2 * valueUnits))
            ? known // the usual case: nothing changed since the last enumeration, and nothing is allocated for the value
            : Encoding.Unicode.GetString(exchange.Slice(ExchangeValue, 2 * valueUnits));
    }

    /// <summary>
    /// The UTF-16 code units of the string in <paramref name="field"/> whose size the guest gave as
    /// <paramref name="sizeBytes"/> (terminator included): those before the first NUL within that
    /// size. -1 when the size is odd, zero or past the field, no NUL ends the string within it, or a
    /// surrogate is unpaired.
    /// </summary>
    private static int TextUnits(ReadOnlySpan<byte> field, uint sizeBytes)
    {
        if (sizeBytes < 2 || sizeBytes > field.Length || (sizeBytes & 1) != 0)
            return -1;
        int units = (int)sizeBytes / 2;
        for (int i = 0; i < units; i++)
        {
            char unit = (char)BinaryPrimitives.ReadUInt16LittleEndian(field[(2 * i)..]);
            if (unit == '\0')
                return i;
            if (char.IsLowSurrogate(unit))
                return -1;
            if (char.IsHighSurrogate(unit))
            {
                if (++i == units || !char.IsLowSurrogate((char)BinaryPrimitives.ReadUInt16LittleEndian(field[(2 * i)..])))
                    return -1;
            }
        }
        return -1;
    }

    private static bool SameText(string text, ReadOnlySpan<byte> utf16)
    {
        if (utf16.Length != 2 * text.Length)
            return false;
        for (int i = 0; i < text.Length; i++)
        {
            if (BinaryPrimitives.ReadUInt16LittleEndian(utf16[(2 * i)..]) != text[i])
                return false;
        }
        return true;
    }

    private static void WriteStringValue(Span<byte> exchange, string key, string value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(exchange, StringValue);
        int keyBytes = Encoding.Unicode.GetBytes(key, exchange.Slice(ExchangeKey, MaxKeyBytes));
        int valueBytes = Encoding.Unicode.GetBytes(value, exchange.Slice(ExchangeValue, MaxValueBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(exchange[4..], (uint)keyBytes + 2); // the zeroed NUL after it counts
        BinaryPrimitives.WriteUInt32LittleEndian(exchange[8..], (uint)valueBytes + 2);
    }

    /// <summary>
    /// Refuses what the guest could not take whole: a NUL would end the string early, a lone
    /// surrogate has no UTF-8 form, and Linux converts to UTF-8 into a field of the same byte size
    /// (one byte kept for the NUL), cutting what does not fit.
    /// </summary>
    private static void CheckText(string text, string name, int fieldBytes)
    {
        ArgumentNullException.ThrowIfNull(text, name);
        if (text.Contains('\0', StringComparison.Ordinal))
            throw new ArgumentException($"the {name} contains a NUL character, which would end it early in the guest", name);
        if (2 * (text.Length + 1) > fieldBytes)
            throw new ArgumentException($"the {name} is {text.Length} UTF-16 code units long; KVP holds at most {(fieldBytes / 2) - 1}", name);
        Span<byte> utf8 = stackalloc byte[3 * MaxValueBytes / 2]; // three bytes per code unit at most
        if (Utf8.FromUtf16(text, utf8, out _, out int utf8Bytes, replaceInvalidSequences: false) != OperationStatus.Done)
            throw new ArgumentException($"the {name} is not valid UTF-16 (a lone surrogate)", name);
        if (utf8Bytes > fieldBytes - 1)
            throw new ArgumentException($"the {name} is {utf8Bytes} bytes in UTF-8; the guest keeps at most {fieldBytes - 1}", name);
    }

    /// <summary>A guest's string as one line of <c>vm show</c>: no control characters, not too long.</summary>
    /// <summary>Guest text for one line of a host's display: control characters as '?', and at most <paramref name="longest"/> characters, then "...".</summary>
    public static string Printable(string text, int longest = 64)
    {
        ArgumentNullException.ThrowIfNull(text);
        int shown = Math.Min(text.Length, longest);
        var line = new StringBuilder(shown + 3);
        foreach (char c in text.AsSpan(0, shown))
            line.Append(char.IsControl(c) ? '?' : c);
        return text.Length > longest ? line.Append("...").ToString() : line.ToString();
    }
}
