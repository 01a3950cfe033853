using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Worker;
using Xunit;

namespace Actors.HwBackend.Tests.Worker;

public sealed class UnimplementedLogTests
{
    private readonly List<UnimplementedUse> _reported = [];
    private readonly UnimplementedLog _log;

    public UnimplementedLogTests() => _log = new UnimplementedLog(_reported.Add);

    [Fact]
    public void EachThingIsReportedOnceAndCountedEveryTime()
    {
        _log.Record(UnimplementedKind.MsrRead, 0x3A, 0x1000);
        _log.Record(UnimplementedKind.MsrRead, 0x3A, 0x2000);
        Assert.True(_log.TryCountAgain(UnimplementedKind.MsrRead, 0x3A));
        Assert.False(_log.TryCountAgain(UnimplementedKind.MsrWrite, 0x3A)); // a write is another thing
        _log.Record(UnimplementedKind.MsrWrite, 0x3A, 0x3000);

        Assert.Equal([new(UnimplementedKind.MsrRead, 0x3A, 0x1000, 1), new(UnimplementedKind.MsrWrite, 0x3A, 0x3000, 1)], _reported);
        Assert.Equal([new(UnimplementedKind.MsrRead, 0x3A, 0x1000, 3), new(UnimplementedKind.MsrWrite, 0x3A, 0x3000, 1)], _log.List());
    }

    [Fact]
    public void AGuestProbingEverythingCannotGrowTheLogWithoutBound()
    {
        for (ulong port = 0; port < 0x10000; port++)
            _log.Record(UnimplementedKind.PortRead, port, 0x1000);

        Assert.Equal(UnimplementedLog.MaxEntries, _log.List().Count);
        Assert.Equal(UnimplementedLog.MaxEntries, _reported.Count);
        Assert.Equal(0x10000 - UnimplementedLog.MaxEntries, _log.Overflow);
    }

    [Fact]
    public void ADamagedSectionIsRefusedInOneLine()
    {
        _log.Record(UnimplementedKind.Instruction, 42, 0x1000);
        byte[] good = Encode(_log.SaveState());
        int kindOffset = sizeof(int);

        byte[] badKind = (byte[])good.Clone();
        badKind[kindOffset] = 200;
        SnapshotException e = Assert.Throws<SnapshotException>(() => Decode(badKind));
        Assert.Contains("unknown kind 200", e.Message);

        byte[] tooMany = (byte[])good.Clone();
        BitConverter.TryWriteBytes(tooMany.AsSpan(0, sizeof(int)), UnimplementedLog.MaxEntries + 1);
        Assert.Contains("more than the", Assert.Throws<SnapshotException>(() => Decode(tooMany)).Message);

        Assert.Equal(_log.List(), Decode(good).Uses);
    }

    private static byte[] Encode(UnimplementedLogState state)
    {
        using var writer = new SnapshotWriter(256);
        writer.Add("unimplemented", state);
        return SnapshotReader.Open(writer.ToArray()).Payload(0).ToArray();
    }

    private static UnimplementedLogState Decode(byte[] payload)
    {
        using var writer = new SnapshotWriter(256);
        writer.AddVerbatim("unimplemented", UnimplementedLogState.SnapshotVersion, payload);
        return SnapshotReader.Open(writer.ToArray()).Read<UnimplementedLogState>("unimplemented");
    }
}
