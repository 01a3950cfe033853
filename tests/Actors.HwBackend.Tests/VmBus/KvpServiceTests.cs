using System.Buffers.Binary;
using System.Text;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Tests.Devices;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

public sealed class KvpServiceTests : IDisposable
{
    private const long Second = 1_000_000_000;
    private const uint NoMoreItems = 0x8007_0103; // HV_S_CONT, what Linux's daemon answers past its last entry

    // hv_kvp_msg in an IC message: operation and pool, the index of an ENUMERATE, and the exchange
    // value (value_type, key_size, value_size, key, value) after the index (ENUMERATE) or the header (SET).
    private const int Operation = IcMessage.BodyOffset, Pool = Operation + 1, Index = Operation + 4;
    private const int EnumerateExchange = Operation + 8, SetExchange = Operation + 4;
    private const int ValueType = 0, KeySize = 4, ValueSize = 8, Key = 12, Value = 12 + 512;

    private static readonly (string Key, string Value)[] LinuxAutoPool =
    [
        ("FullyQualifiedDomainName", "kvp-test-vm"),
        ("IntegrationServicesVersion", "3.1"),
        ("NetworkAddressIPv4", ""),
        ("OSName", "Debian GNU/Linux"),
    ];

    private readonly IcTestChannel _ic = new(dataPages: 3); // a header page and 12 KiB, as hv_utils lends
    private readonly ManualClock _clock = new(5 * Second);
    private readonly KvpService _kvp;
    private int _deadlinesChanged;

    public KvpServiceTests()
    {
        _kvp = new KvpService(_clock, () => _deadlinesChanged++);
    }

    public void Dispose() => _ic.Dispose();

    /// <summary>The next message the guest finds in its ring (the IC header and body), or null when there is none.</summary>
    private byte[]? GuestTakes() => _ic.TryGuestReceives();

    private byte[] GuestReceives() => _ic.GuestReceives();

    /// <summary>Puts <paramref name="message"/> in the guest-to-host ring as hv_utils does, and signals.</summary>
    private void GuestSends(byte[] message) => _ic.GuestSends(_kvp, message);

    /// <summary>The request sent back flagged as the guest's response, with <paramref name="status"/>.</summary>
    private static byte[] Response(byte[] request, uint status = 0)
    {
        byte[] answer = (byte[])request.Clone();
        answer[25] = IcMessage.Transaction | IcMessage.Response;
        BinaryPrimitives.WriteUInt32LittleEndian(answer.AsSpan(20), status);
        return answer;
    }

    /// <summary>What hv_kvp and its daemon make of an ENUMERATE: the entry written into the request as UTF-16, sizes with the NUL.</summary>
    private static byte[] Entry(byte[] request, string key, string value)
    {
        byte[] answer = Response(request);
        Span<byte> exchange = answer.AsSpan(EnumerateExchange);
        BinaryPrimitives.WriteUInt32LittleEndian(exchange[ValueType..], 1); // REG_SZ
        BinaryPrimitives.WriteUInt32LittleEndian(exchange[KeySize..], (uint)(2 * (key.Length + 1)));
        BinaryPrimitives.WriteUInt32LittleEndian(exchange[ValueSize..], (uint)(2 * (value.Length + 1)));
        WriteUnits(key, exchange.Slice(Key, 512));
        WriteUnits(value, exchange.Slice(Value, 2048));
        return answer;
    }

    /// <summary>The code units of <paramref name="text"/> as they are (lone surrogates too), as many as fit.</summary>
    private static void WriteUnits(string text, Span<byte> field)
    {
        for (int i = 0; i < text.Length && (2 * i) + 2 <= field.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(field[(2 * i)..], text[i]);
    }

    /// <summary>A daemon serving <paramref name="pool"/> answers the ENUMERATE <paramref name="request"/>.</summary>
    private static byte[] DaemonAnswers(byte[] request, IReadOnlyList<(string Key, string Value)> pool)
    {
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(Index));
        return index < pool.Count ? Entry(request, pool[(int)index].Key, pool[(int)index].Value) : Response(request, NoMoreItems);
    }

    private static bool IsEnumerate(byte[] request, uint index) =>
        IcMessage.Type(request) == IcMessage.KeyValuePair && request[Operation] == 3 && request[Pool] == 2
        && BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(Index)) == index;

    /// <summary>Opens the channel and agrees on versions as hv_utils does (the offered ones echoed: the first of each is taken).</summary>
    private void Negotiate()
    {
        _kvp.Opened(_ic.Channel);
        byte[] negotiate = GuestReceives();
        Assert.Equal(IcMessage.Negotiate, IcMessage.Type(negotiate));
        GuestSends(Response(negotiate));
        Assert.True(_kvp.Negotiated);
    }

    /// <summary>Answers requests as a daemon serving <paramref name="pool"/> until one enumeration ends.</summary>
    private void EnumerationAnswered(IReadOnlyList<(string Key, string Value)> pool)
    {
        long before = _kvp.Enumerations;
        while (_kvp.Enumerations == before)
            GuestSends(DaemonAnswers(GuestReceives(), pool));
    }

    [Fact]
    public void OnceNegotiatedItEnumeratesTheAutoPoolUntilTheGuestSaysNoMore()
    {
        Assert.Equal("no channel (the guest has not opened it)", _kvp.Describe());
        Assert.Empty(_kvp.GuestValues);
        _kvp.Opened(_ic.Channel);
        byte[] negotiate = GuestReceives();
        // Framework 3.0, then KVP 4.0 and 3.0, the versions Linux's hv_kvp knows besides 1.0.
        Assert.Equal([1, 0, 2, 0], negotiate[(IcMessage.BodyOffset)..(IcMessage.BodyOffset + 4)]);
        Assert.Equal([3, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0], negotiate[(IcMessage.BodyOffset + 8)..(IcMessage.BodyOffset + 20)]);
        Assert.Equal("negotiating (Linux answers once its hv_kvp_daemon runs)", _kvp.Describe());
        GuestSends(Response(negotiate));
        Assert.Equal(4u << 16, _kvp.Version);
        Assert.Equal(1, _deadlinesChanged);
        Assert.Equal("no data yet", _kvp.Describe());

        for (uint index = 0; index <= LinuxAutoPool.Length; index++)
        {
            byte[] request = GuestReceives();
            Assert.True(IsEnumerate(request, index), $"ENUMERATE of the auto pool at {index}");
            Assert.Equal(IcMessage.BodyOffset + 2580, request.Length); // the whole hv_kvp_msg_enumerate: the guest answers in place
            Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(14))); // in the agreed version
            Assert.Null(GuestTakes()); // one request at a time
            GuestSends(DaemonAnswers(request, LinuxAutoPool));
        }

        Assert.Null(GuestTakes()); // "no more" ends it
        Assert.Equal(1, _kvp.Enumerations);
        Assert.Equal(LinuxAutoPool.ToDictionary(e => e.Key, e => e.Value), _kvp.GuestValues);
        Assert.Equal("ok: 4 values, host name kvp-test-vm, enumerated 0.0 s ago", _kvp.Describe());
        Assert.Equal(0, _kvp.IgnoredAnswers);
    }

    [Fact]
    public void ItEnumeratesAgainEveryTenSecondsOfGuestTimeSoAChangedHostNameShowsUp()
    {
        Negotiate();
        Assert.Equal(15 * Second, _kvp.NextEventNanoseconds);
        EnumerationAnswered(LinuxAutoPool);
        IReadOnlyDictionary<string, string> first = _kvp.GuestValues;

        _clock.Now = 15 * Second;
        _kvp.FireDue(_clock.Now);
        Assert.Equal(25 * Second, _kvp.NextEventNanoseconds);
        byte[] again = GuestReceives();
        Assert.True(IsEnumerate(again, 0));
        _clock.Now = 15 * Second + 100_000_000;
        _kvp.FireDue(_clock.Now); // early: nothing is asked twice
        Assert.Null(GuestTakes());
        (string, string)[] renamed = [("FullyQualifiedDomainName", "renamed\u0001host"), ("OSName", "Debian GNU/Linux")];
        GuestSends(DaemonAnswers(again, renamed));
        EnumerationAnswered(renamed);

        Assert.Equal("renamed\u0001host", _kvp.GuestValues["FullyQualifiedDomainName"]);
        Assert.False(_kvp.GuestValues.ContainsKey("IntegrationServicesVersion")); // what the guest no longer reports goes
        Assert.Equal("kvp-test-vm", first["FullyQualifiedDomainName"]); // a snapshot handed out earlier stays as it was
        Assert.Equal(4, first.Count);
        _clock.Now = 17 * Second;
        Assert.Equal("ok: 2 values, host name renamed?host, enumerated 1.9 s ago", _kvp.Describe()); // no control characters in vm show
        _kvp.Closed();
        Assert.Null(_kvp.NextEventNanoseconds);
    }

    [Fact]
    public void APushGoesToTheExternalPoolBehindTheOutstandingRequest()
    {
        Negotiate();
        byte[] enumerate = GuestReceives();
        _deadlinesChanged = 0;
        Assert.True(_kvp.Push("HostKey", "host value \u00e9\U0001F600"));
        Assert.Equal(1, _deadlinesChanged);
        Assert.Null(GuestTakes()); // Linux serves one transaction at a time: the push waits for the answer
        Assert.Equal(1, _kvp.QueuedPushes);

        GuestSends(DaemonAnswers(enumerate, LinuxAutoPool));
        byte[] set = GuestReceives();
        Assert.Equal(IcMessage.KeyValuePair, IcMessage.Type(set));
        Assert.Equal(1, set[Operation]); // KVP_OP_SET
        Assert.Equal(0, set[Pool]); // KVP_POOL_EXTERNAL
        ReadOnlySpan<byte> exchange = set.AsSpan(SetExchange);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(exchange[ValueType..])); // REG_SZ
        Assert.Equal(16u, BinaryPrimitives.ReadUInt32LittleEndian(exchange[KeySize..])); // UTF-16 bytes with the NUL
        Assert.Equal("HostKey\0", Encoding.Unicode.GetString(exchange.Slice(Key, 16)));
        string value = "host value \u00e9\U0001F600";
        Assert.Equal((uint)(2 * (value.Length + 1)), BinaryPrimitives.ReadUInt32LittleEndian(exchange[ValueSize..]));
        Assert.Equal(value + "\0", Encoding.Unicode.GetString(exchange.Slice(Value, 2 * (value.Length + 1))));
        Assert.Equal(0, _kvp.QueuedPushes);
        Assert.Null(GuestTakes());

        GuestSends(Response(set));
        Assert.Equal(1, _kvp.PushesDelivered);
        byte[] next = GuestReceives();
        Assert.True(IsEnumerate(next, 1)); // then the enumeration goes on

        // A push the guest refuses (its daemon could not store it) is counted as failed.
        Assert.True(_kvp.Push("Other", "x"));
        GuestSends(DaemonAnswers(next, LinuxAutoPool));
        GuestSends(Response(GuestReceives(), NoMoreItems));
        Assert.Equal(1, _kvp.PushesFailed);
        Assert.Equal(0, _kvp.IgnoredAnswers);
    }

    [Fact]
    public void APushBeforeTheGuestAgreedWaitsAndGoesFirstAndALaterOneOfTheSameKeyReplacesIt()
    {
        Assert.True(_kvp.Push("Early", "one"));
        Assert.True(_kvp.Push("Early", "two"));
        Assert.Equal(1, _kvp.QueuedPushes);
        for (int i = 1; i < KvpService.MaxQueuedPushes; i++)
            Assert.True(_kvp.Push($"Key{i}", "v"));
        Assert.False(_kvp.Push("OneTooMany", "v")); // bounded: the caller hears it was not queued
        Assert.True(_kvp.Push("Key1", "replaced")); // a waiting key takes no new place

        Negotiate();
        byte[] set = GuestReceives();
        Assert.Equal(1, set[Operation]);
        Assert.Equal("Early\0", Encoding.Unicode.GetString(set.AsSpan(SetExchange + Key, 12)));
        Assert.Equal("two\0", Encoding.Unicode.GetString(set.AsSpan(SetExchange + Value, 8)));
        GuestSends(Response(set));
        byte[] second = GuestReceives();
        Assert.Equal("Key1\0", Encoding.Unicode.GetString(second.AsSpan(SetExchange + Key, 10)));
        Assert.Equal("replaced\0", Encoding.Unicode.GetString(second.AsSpan(SetExchange + Value, 18)));
    }

    [Theory]
    [InlineData("", "v", "the key is empty")]
    [InlineData("a\0b", "v", "the key contains a NUL")]
    [InlineData("k", "a\0", "the value contains a NUL")]
    public void APushTheGuestCouldNotTakeWholeIsRefused(string key, string value, string problem)
    {
        var refused = Assert.Throws<ArgumentException>(() => _kvp.Push(key, value));
        Assert.StartsWith(problem, refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, _kvp.QueuedPushes);
    }

    [Fact]
    public void APushWithALoneSurrogateIsRefused()
    {
        // Built here: an attribute's strings go through UTF-8, which has no lone surrogates.
        string high = "k" + (char)0xD800 + "x", low = ((char)0xDC00).ToString();
        Assert.StartsWith("the value is not valid UTF-16", Assert.Throws<ArgumentException>(() => _kvp.Push("k", high)).Message, StringComparison.Ordinal);
        Assert.StartsWith("the key is not valid UTF-16", Assert.Throws<ArgumentException>(() => _kvp.Push(low, "v")).Message, StringComparison.Ordinal);
        Assert.Equal(0, _kvp.QueuedPushes);
    }

    [Fact]
    public void APushLongerThanItsFieldInUtf16OrInTheGuestsUtf8IsRefused()
    {
        Assert.True(_kvp.Push(new string('k', 255), new string('v', 1023))); // the fields' 512 and 2048 bytes with the NUL
        Assert.StartsWith("the key is 256 UTF-16 code units long; KVP holds at most 255", Assert.Throws<ArgumentException>(() => _kvp.Push(new string('k', 256), "v")).Message, StringComparison.Ordinal);
        Assert.StartsWith("the value is 1024 UTF-16", Assert.Throws<ArgumentException>(() => _kvp.Push("k", new string('v', 1024))).Message, StringComparison.Ordinal);
        // 200 euro signs fit 512 bytes of UTF-16 but are 600 bytes of UTF-8, which Linux would cut to 511.
        Assert.StartsWith("the key is 600 bytes in UTF-8; the guest keeps at most 511", Assert.Throws<ArgumentException>(() => _kvp.Push(new string('\u20ac', 200), "v")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => _kvp.Push("k", null!));
    }

    [Fact]
    public void AGuestThatNeverAgreesCostsNothing()
    {
        // Linux's hv_kvp leaves the channel unread until its daemon registers: no answer to NEGOTIATE at all.
        _kvp.Opened(_ic.Channel);
        GuestReceives();
        Assert.Null(_kvp.NextEventNanoseconds);
        Assert.True(_kvp.Push("Waiting", "v"));
        Assert.Null(GuestTakes());
        Assert.Empty(_kvp.GuestValues);
        Assert.Equal("negotiating (Linux answers once its hv_kvp_daemon runs)", _kvp.Describe());
    }

    [Fact]
    public void ARequestTheGuestLeavesUnansweredIsAbandonedAfterTheTimeoutAndItsLateAnswerIgnored()
    {
        Negotiate();
        EnumerationAnswered(LinuxAutoPool);
        _clock.Now = 15 * Second;
        _kvp.FireDue(_clock.Now);
        byte[] unanswered = GuestReceives(); // index 0 of the second enumeration; the guest sits on it
        Assert.True(_kvp.Push("HostKey", "v"));
        Assert.Null(GuestTakes());
        Assert.Equal(25 * Second, _kvp.NextEventNanoseconds);

        _clock.Now = 25 * Second;
        _kvp.FireDue(_clock.Now); // the next enumeration is due, but the guest has not finished this one
        Assert.Null(GuestTakes());
        _clock.Now = 45 * Second;
        _kvp.FireDue(_clock.Now);
        Assert.Equal(15 * Second + (long)KvpService.RequestTimeout.TotalNanoseconds, _kvp.NextEventNanoseconds);

        _clock.Now = 50 * Second;
        _kvp.FireDue(_clock.Now);
        Assert.Equal(1, _kvp.TimedOutRequests);
        byte[] set = GuestReceives(); // the waiting push goes first once the request is abandoned
        Assert.Equal(1, set[Operation]);
        Assert.Equal(4, _kvp.GuestValues.Count); // the last complete enumeration stays
        Assert.EndsWith(", 1 requests timed out", _kvp.Describe(), StringComparison.Ordinal);

        GuestSends(DaemonAnswers(unanswered, LinuxAutoPool)); // too late: the push is outstanding now
        Assert.Equal(1, _kvp.IgnoredAnswers);
        Assert.Null(GuestTakes());
        GuestSends(Response(set));
        Assert.Null(GuestTakes()); // the abandoned enumeration is not resumed: the next starts over when due
        _clock.Now = 55 * Second;
        _kvp.FireDue(_clock.Now);
        Assert.True(IsEnumerate(GuestReceives(), 0));

        // A push the guest never answers is abandoned too, and counted as failed.
        Assert.True(_kvp.Push("Lost", "v"));
        _clock.Now = 100 * Second;
        _kvp.FireDue(_clock.Now);
        Assert.Equal(2, _kvp.TimedOutRequests);
        Assert.Equal(1, GuestReceives()[Operation]);
        _clock.Now = 200 * Second;
        _kvp.FireDue(_clock.Now);
        Assert.Equal(3, _kvp.TimedOutRequests);
        Assert.Equal(1, _kvp.PushesFailed);
        Assert.True(IsEnumerate(GuestReceives(), 0));
    }

    private static byte[] GetEnumerate(uint index)
    {
        byte[] request = new byte[IcMessage.BodyOffset + 2580];
        IcMessage.WriteRequestHeader(request, IcMessage.KeyValuePair, 4 << 16, 2580);
        request[Operation] = 3;
        request[Pool] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(Index), index);
        return request;
    }

    public static TheoryData<string> AnswersThatAreNotTheAnswer() =>
    [
        "another IC message type",
        "cut short",
        "another index",
        "another operation",
        "another pool",
    ];

    [Theory]
    [MemberData(nameof(AnswersThatAreNotTheAnswer))]
    public void AnAnswerThatMatchesNoRequestIsIgnoredAndTheRequestStaysOutstanding(string how)
    {
        Negotiate();
        byte[] answer = Entry(GuestReceives(), "Key", "Value");
        switch (how)
        {
            case "another IC message type": BinaryPrimitives.WriteUInt16LittleEndian(answer.AsSpan(12), IcMessage.Heartbeat); break;
            case "cut short": answer = answer[..(IcMessage.BodyOffset + 2500)]; break;
            case "another index": answer[Index] = 7; break;
            case "another operation": answer[Operation] = 1; break;
            case "another pool": answer[Pool] = 0; break;
        }
        GuestSends(answer);
        Assert.Equal(1, _kvp.IgnoredAnswers);
        Assert.Null(GuestTakes());
        Assert.Empty(_kvp.GuestValues);
    }

    public static TheoryData<string> EntriesThatBreakTheLayout() =>
    [
        "a value type other than REG_SZ",
        "key size 0",
        "an odd key size",
        "a key size past the key field",
        "a value size past the value field",
        "a huge value size",
        "no NUL within the key size",
        "no NUL within the value size",
        "an empty key",
        "a lone high surrogate",
        "a lone low surrogate",
        "a high surrogate cut by the size",
    ];

    [Theory]
    [MemberData(nameof(EntriesThatBreakTheLayout))]
    public void AnEntryThatBreaksTheLayoutIsIgnoredAndTheEnumerationGoesOn(string how)
    {
        Negotiate();
        byte[] answer = Entry(GuestReceives(), "Key", "Value");
        Span<byte> exchange = answer.AsSpan(EnumerateExchange);
        switch (how)
        {
            case "a value type other than REG_SZ": BinaryPrimitives.WriteUInt32LittleEndian(exchange[ValueType..], 4); break;
            case "key size 0": BinaryPrimitives.WriteUInt32LittleEndian(exchange[KeySize..], 0); break;
            case "an odd key size": BinaryPrimitives.WriteUInt32LittleEndian(exchange[KeySize..], 7); break;
            case "a key size past the key field": BinaryPrimitives.WriteUInt32LittleEndian(exchange[KeySize..], 514); exchange[Key..(Key + 512)].Fill((byte)'k'); break;
            case "a value size past the value field": BinaryPrimitives.WriteUInt32LittleEndian(exchange[ValueSize..], 2050); break;
            case "a huge value size": BinaryPrimitives.WriteUInt32LittleEndian(exchange[ValueSize..], uint.MaxValue); break;
            case "no NUL within the key size": BinaryPrimitives.WriteUInt32LittleEndian(exchange[KeySize..], 6); break;
            case "no NUL within the value size": BinaryPrimitives.WriteUInt32LittleEndian(exchange[ValueSize..], 10); break;
            case "an empty key": exchange[Key..(Key + 8)].Clear(); break;
            case "a lone high surrogate": BinaryPrimitives.WriteUInt16LittleEndian(exchange[(Key + 2)..], 0xD800); break;
            case "a lone low surrogate": BinaryPrimitives.WriteUInt16LittleEndian(exchange[(Value + 4)..], 0xDC00); break;
            case "a high surrogate cut by the size":
                BinaryPrimitives.WriteUInt16LittleEndian(exchange[(Key + 4)..], 0xD83D);
                BinaryPrimitives.WriteUInt16LittleEndian(exchange[(Key + 6)..], 0xDE00);
                BinaryPrimitives.WriteUInt32LittleEndian(exchange[KeySize..], 6);
                break;
        }
        GuestSends(answer);
        Assert.Equal(1, _kvp.IgnoredAnswers);
        Assert.True(IsEnumerate(GuestReceives(), 1)); // the guest did answer index 0: on to the next
        GuestSends(Response(GetEnumerate(1), NoMoreItems));
        Assert.Empty(_kvp.GuestValues);
        Assert.Equal(1, _kvp.Enumerations);
    }

    [Fact]
    public void AnEntryMayEndBeforeItsSizeAndASurrogatePairIsText()
    {
        Negotiate();
        byte[] answer = Entry(GuestReceives(), "Key", "ab\U0001F600");
        BinaryPrimitives.WriteUInt32LittleEndian(answer.AsSpan(EnumerateExchange + KeySize), 512); // the NUL comes first
        GuestSends(answer);
        GuestSends(Response(GuestReceives(), NoMoreItems));
        Assert.Equal("ab\U0001F600", _kvp.GuestValues["Key"]);
    }

    [Fact]
    public void AFloodOfAnswersIsCountedAndAGuestAnsweringAheadGetsNoMoreThanTheCap()
    {
        Negotiate();
        byte[] first = GuestReceives();
        for (int i = 0; i < 1000; i++)
            GuestSends(Response(GetEnumerate(5))); // nothing asked index 5
        Assert.Equal(1000, _kvp.IgnoredAnswers);
        Assert.Null(GuestTakes());

        // A guest that writes answers before they are asked, for more entries than are kept: each is
        // taken once its request is outstanding, and the enumeration stops at the cap.
        GuestSends(Entry(first, "Key0", "v"));
        GuestReceives(); // index 1
        for (uint index = 1; index < 200; index += 4)
        {
            for (uint ahead = index; ahead < index + 4 && ahead < 200; ahead++)
                Assert.True(_ic.GuestWrites(Entry(GetEnumerate(ahead), $"Key{ahead}", new string('v', 1023))));
            _kvp.Signalled(_ic.Channel);
            while (GuestTakes() is not null)
            {
            }
        }
        Assert.Equal(KvpService.MaxGuestValues, _kvp.GuestValues.Count);
        Assert.Equal(new string('v', 1023), _kvp.GuestValues["Key63"]);
        Assert.Equal(1, _kvp.Enumerations);
        Assert.Equal(1000 + 200 - KvpService.MaxGuestValues, _kvp.IgnoredAnswers);
    }

    [Fact]
    public void ReopeningTheChannelForgetsTheGuestsValuesAndSendsAnUnansweredPushAgain()
    {
        Negotiate();
        EnumerationAnswered(LinuxAutoPool);
        Assert.True(_kvp.Push("HostKey", "v"));
        Assert.Equal(1, GuestReceives()[Operation]); // the guest goes away before answering
        _kvp.Closed();
        Assert.Null(_kvp.NextEventNanoseconds);
        Assert.Equal(4, _kvp.GuestValues.Count); // the last thing the guest said, until it opens the channel again
        Assert.Equal(1, _kvp.QueuedPushes);

        Negotiate();
        Assert.Empty(_kvp.GuestValues);
        byte[] again = GuestReceives();
        Assert.Equal(1, again[Operation]);
        Assert.Equal("HostKey\0", Encoding.Unicode.GetString(again.AsSpan(SetExchange + Key, 16)));
        GuestSends(Response(again));
        Assert.True(IsEnumerate(GuestReceives(), 0));
    }

    [Fact]
    public void PushesTheGuestHasNotConfirmedTravelInTheSnapshotAndGoToTheGuestOnTheNewHost()
    {
        Negotiate();
        EnumerationAnswered(LinuxAutoPool);
        Assert.True(_kvp.Push("Sent", "unanswered"));
        Assert.Equal(1, GuestReceives()[Operation]); // out, not answered when the VM stops to move
        Assert.True(_kvp.Push("Waiting", "\u00e9t\u00e9"));

        using var writer = new SnapshotWriter();
        writer.Add("kvp", _kvp.SaveState());
        KvpServiceState read = SnapshotReader.Open(writer.ToArray()).Read<KvpServiceState>("kvp");
        Assert.Null(KvpService.FindRestoreProblem(read));

        // The target's service, on a channel restored open: it negotiates, then owes both, in order.
        using var target = new IcTestChannel(dataPages: 3);
        var moved = new KvpService(_clock, () => { });
        moved.RestoreState(read);
        Assert.Equal(2, moved.QueuedPushes);
        target.OpenAndNegotiate(moved);
        byte[] first = target.GuestReceives();
        Assert.Equal("Sent\0", Encoding.Unicode.GetString(first.AsSpan(SetExchange + Key, 10)));
        target.GuestAnswers(moved, first);
        byte[] second = target.GuestReceives();
        Assert.Equal("\u00e9t\u00e9\0", Encoding.Unicode.GetString(second.AsSpan(SetExchange + Value, 8)));
        target.GuestAnswers(moved, second);
        Assert.Equal(2, moved.PushesDelivered);
    }

    [Fact]
    public void ASnapshotWithAPushTheServiceWouldRefuseIsRefused()
    {
        Assert.Contains("NUL", KvpService.FindRestoreProblem(new KvpServiceState([new("k\0", "v")])));
        Assert.Contains("empty key", KvpService.FindRestoreProblem(new KvpServiceState([new("", "v")])));
        using var writer = new SnapshotWriter();
        writer.Add("kvp", new KvpServiceState([.. Enumerable.Range(0, KvpService.MaxQueuedPushes + 2).Select(i => new KeyValuePair<string, string>($"k{i}", "v"))]));
        Assert.Throws<SnapshotException>(() => SnapshotReader.Open(writer.ToArray()).Read<KvpServiceState>("kvp"));
    }

    [Fact]
    public void TenThousandMutatedAnswersNeverThrowAndKeepTheLimits()
    {
        var random = new Random(20_240_611);
        Negotiate();
        byte[] request = GetEnumerate(0);
        int most = 0;
        for (int answers = 0; answers < 10_000;)
        {
            byte[]? asked = null;
            while (GuestTakes() is { } sent)
                asked = sent;
            if (asked is null && random.Next(3) == 0 && _kvp.NextEventNanoseconds is { } next)
            {
                // Nothing new was asked: guest time runs on to the service's next event (an enumeration due, a timeout).
                _clock.Now = Math.Max(_clock.Now, next);
                _kvp.FireDue(_clock.Now);
                continue;
            }
            request = asked ?? request;
            byte[] answer = random.Next(4) == 0 ? Response(request, (uint)random.Next(3)) : Entry(request, RandomText(random, 300), RandomText(random, 1100));
            Mutate(random, ref answer);
            GuestSends(answer);
            answers++;
            _clock.Now += random.NextInt64(Second / 10);
            if (random.Next(100) == 0)
                _kvp.Push($"k{random.Next(40)}", "v");
            Assert.InRange(_kvp.GuestValues.Count, 0, KvpService.MaxGuestValues);
            Assert.All(_kvp.GuestValues, e => Assert.True(e.Key.Length is > 0 and <= 255 && e.Value.Length <= 1023));
            most = Math.Max(most, _kvp.GuestValues.Count);
        }
        // The fuzzing reached past the matching into the entries, and the service kept going.
        Assert.True(most >= 5, $"at most {most} values were ever kept");
        Assert.True(_kvp.Enumerations > 500, $"{_kvp.Enumerations} enumerations");
        Assert.True(_kvp.PushesDelivered > 0 && _kvp.TimedOutRequests > 0 && _kvp.IgnoredAnswers > 0);

        // Once the guest behaves, the pushes go and a whole enumeration (the second from now: the one
        // under way may hold what the fuzzing said) is read.
        long before = _kvp.Enumerations;
        for (int steps = 0; _kvp.Enumerations < before + 2 || _kvp.QueuedPushes > 0; steps++)
        {
            Assert.True(steps < 1000, "the service settles");
            if (GuestTakes() is not { } next)
            {
                _clock.Now += 100 * Second;
                _kvp.FireDue(_clock.Now);
                continue;
            }
            GuestSends(next[Operation] == 1 ? Response(next) : DaemonAnswers(next, LinuxAutoPool));
        }
        Assert.Equal(LinuxAutoPool.ToDictionary(e => e.Key, e => e.Value), _kvp.GuestValues);
    }

    /// <summary>Text of up to <paramref name="longest"/> code units, now and then a surrogate alone or a NUL.</summary>
    private static string RandomText(Random random, int longest)
    {
        var text = new char[random.Next(longest)];
        for (int i = 0; i < text.Length; i++)
            text[i] = (char)random.Next(0x20, 0x300);
        if (text.Length > 0 && random.Next(10) == 0)
            text[random.Next(text.Length)] = (char)random.Next(0xD7F0, 0xE010); // around and among the surrogates
        if (text.Length > 0 && random.Next(20) == 0)
            text[random.Next(text.Length)] = '\0';
        return new string(text);
    }

    /// <summary>Flips bytes, rewrites the header and the exchange value's sizes, or cuts the answer.</summary>
    private static void Mutate(Random random, ref byte[] answer)
    {
        int mutations = random.Next(4);
        for (int m = 0; m < mutations; m++)
        {
            switch (random.Next(6))
            {
                case 0: answer[random.Next(answer.Length)] = (byte)random.Next(256); break;
                case 1: answer[random.Next(IcMessage.BodyOffset, Math.Min(answer.Length, EnumerateExchange + 12))] ^= (byte)(1 << random.Next(8)); break;
                case 2: BinaryPrimitives.WriteUInt32LittleEndian(answer.AsSpan(EnumerateExchange + (4 * random.Next(3))), random.Next(3) == 0 ? (uint)random.Next() : (uint)random.Next(2100)); break;
                case 3: answer = answer[..random.Next(answer.Length + 1)]; break;
                case 4: BinaryPrimitives.WriteUInt32LittleEndian(answer.AsSpan(20), (uint)random.Next()); break;
                case 5: answer = [.. answer, .. new byte[random.Next(64)]]; break;
            }
            if (answer.Length < EnumerateExchange + 12)
                return;
        }
    }
}
