using System.Buffers.Binary;
using Actors.HwBackend.Snapshots;
using Xunit;

namespace Actors.HwBackend.Tests.Snapshots;

/// <summary>The snapshot container on its own: framing, versions and every refusal, with a probe section instead of a machine.</summary>
public sealed class SnapshotFormatTests
{
    [Fact]
    public void SectionsComeBackFieldForFieldInAnyOrder()
    {
        byte[] snapshot = Write(("probe", ProbeSection.Sample), ("other/1", ProbeSection.Sample with { Word = 1 }));

        var reader = SnapshotReader.Open(snapshot);
        var other = reader.Read<ProbeSection>("other/1");
        var probe = reader.Read<ProbeSection>("probe");
        reader.EnsureEverySectionRead();

        Assert.True(probe.SameAs(ProbeSection.Sample));
        Assert.True(other.SameAs(ProbeSection.Sample with { Word = 1 }));
        Assert.Equal(["probe", "other/1"], reader.Sections.Select(s => s.Id));
        Assert.All(reader.Sections, s => Assert.Equal(ProbeSection.SnapshotVersion, s.Version));
        Assert.Equal("AVMS"u8.ToArray(), snapshot[..4]);
    }

    [Fact]
    public void AnOlderVersionOfASectionIsHandedToItsReader()
    {
        using var writer = new SnapshotWriter();
        writer.AddVerbatim("probe", 1, PayloadOf(ProbeSection.Sample));
        var reader = SnapshotReader.Open(writer.ToArray());

        Assert.True(reader.Read<ProbeSection>("probe").SameAs(ProbeSection.Sample));
    }

    [Fact]
    public void TheHeaderIsRefusedWhenTooShortForeignNewerOrTheWrongLength()
    {
        byte[] good = Write(("probe", ProbeSection.Sample));

        AssertRefused([1, 2, 3], "snapshot header: 3 bytes are too few");
        AssertRefused([.. "{\"Platform\":{}}"u8], "not a machine snapshot");
        AssertRefused(WithHeaderField(good, 4, 7), "format version 7 is newer than this build reads (up to 1)");
        AssertRefused(WithHeaderField(good, 4, 0), "format version 0");
        AssertRefused(good[..^1], $"snapshot is truncated: {good.Length - 1} of its {good.Length} bytes arrived");
        AssertRefused([.. good, 0], $"it says {good.Length} bytes, but {good.Length + 1} arrived");
    }

    [Fact]
    public void AnyChangedBitFailsTheIntegrityCheck()
    {
        byte[] good = Write(("probe", ProbeSection.Sample));
        // Past the magic, version and length, which have refusals of their own.
        for (int bit = 12 * 8; bit < good.Length * 8; bit++)
        {
            byte[] flipped = (byte[])good.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            AssertRefused(flipped, "integrity check failed");
        }
    }

    [Fact]
    public void SectionsAreRefusedByNameWhenMissingNewerUnknownDuplicatedShortOrLong()
    {
        byte[] payload = PayloadOf(ProbeSection.Sample);

        AssertSectionRefused([], "snapshot section 'probe': is missing");
        AssertSectionRefused([("probe", 3, payload)], "snapshot section 'probe': version 3 is newer than this build reads (up to 2)");
        AssertSectionRefused([("probe", 0, payload)], "snapshot section 'probe': version 0");
        AssertSectionRefused([("probe", 2, payload[..^1])], "snapshot section 'probe': its version 2 payload of");
        AssertSectionRefused([("probe", 2, [.. payload, 0, 0])], "snapshot section 'probe': 2 bytes are left over after its version 2 fields");
        AssertSectionRefused([("probe", 2, payload), ("probe", 2, payload)], "snapshot section 'probe': appears twice");
        AssertSectionRefused([("probe", 2, payload), ("vmbus/7", 1, [])], "snapshot section 'vmbus/7': (version 1) is unknown");

        byte[] notABoolean = (byte[])payload.Clone();
        notABoolean[1] = 2;
        AssertSectionRefused([("probe", 2, notABoolean)], "snapshot section 'probe': byte 1 is 2, where a boolean (0 or 1) belongs");

        // A variable-length array that claims more than the payload holds.
        byte[] longArray = (byte[])payload.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(longArray.AsSpan(1 + 1 + 2 + 4 + 4 + 8 + 8 + ProbeSection.FixedLength), int.MaxValue);
        AssertSectionRefused([("probe", 2, longArray)], "snapshot section 'probe': its version 2 payload of");
        BinaryPrimitives.WriteInt32LittleEndian(longArray.AsSpan(1 + 1 + 2 + 4 + 4 + 8 + 8 + ProbeSection.FixedLength), -1);
        AssertSectionRefused([("probe", 2, longArray)], "has length -1");
    }

    [Fact]
    public void BrokenFramingIsRefusedEvenUnderAValidIntegrityCheck()
    {
        byte[] good = Write(("probe", ProbeSection.Sample));

        byte[] longPayload = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(longPayload.AsSpan(12 + 1 + 5 + 2), 100_000);
        AssertRefused(Resealed(longPayload), "snapshot section 'probe': its 100000-byte payload runs past the end");

        byte[] badId = (byte[])good.Clone();
        badId[12 + 1] = (byte)'P';
        AssertRefused(Resealed(badId), "snapshot section #1 of 1: its id is not a section id");

        byte[] noIdLength = (byte[])good.Clone();
        noIdLength[12] = 0;
        AssertRefused(Resealed(noIdLength), "snapshot section #1 of 1: its id length 0");

        byte[] moreSections = WithHeaderField(good, 6, 2);
        AssertRefused(Resealed(moreSections), "snapshot section #2 of 2: the snapshot ends before it");

        byte[] fewerSections = WithHeaderField(good, 6, 0);
        AssertRefused(Resealed(fewerSections), "bytes follow the last of its 0 sections");
    }

    [Fact]
    public void TheWriterRefusesBadIdsAndStateItCouldNotReadBack()
    {
        using var writer = new SnapshotWriter();

        Assert.Throws<ArgumentException>(() => writer.Add("Probe", ProbeSection.Sample));
        Assert.Throws<ArgumentException>(() => writer.Add("", ProbeSection.Sample));
        Assert.Throws<ArgumentException>(() => writer.Add(new string('a', 65), ProbeSection.Sample));
        var missized = Assert.Throws<ArgumentException>(() => writer.Add("probe", ProbeSection.Sample with { Dwords = [1] }));
        Assert.Contains("section 'probe': Dwords has 1 entries; the section holds exactly 3", missized.Message);
        Assert.Throws<ArgumentException>(() => writer.Add("probe", ProbeSection.Sample with { Fixed = null! }));
        Assert.Throws<ArgumentException>(() => writer.Add("probe", ProbeSection.Sample with { Variable = null! }));

        // A refused section leaves nothing behind: the snapshot holds only what was added whole.
        writer.Add("probe", ProbeSection.Sample);
        var reader = SnapshotReader.Open(writer.ToArray());
        Assert.True(reader.Read<ProbeSection>("probe").SameAs(ProbeSection.Sample));
        reader.EnsureEverySectionRead();
    }

    private static byte[] Write(params (string Id, ProbeSection Section)[] sections)
    {
        using var writer = new SnapshotWriter(capacity: 16); // small, so the buffer has to grow
        foreach (var (id, section) in sections)
            writer.Add(id, section);
        return writer.ToArray();
    }

    private static byte[] PayloadOf(ProbeSection section)
    {
        var reader = SnapshotReader.Open(Write(("probe", section)));
        return reader.Payload(0).ToArray();
    }

    private static byte[] WithHeaderField(byte[] snapshot, int offset, ushort value)
    {
        byte[] copy = (byte[])snapshot.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }

    private static byte[] Resealed(byte[] snapshot)
    {
        SnapshotSurgery.Reseal(snapshot);
        return snapshot;
    }

    private static void AssertRefused(byte[] snapshot, string expected)
    {
        var refusal = Assert.Throws<SnapshotException>(() => SnapshotReader.Open(snapshot));
        Assert.Contains(expected, refusal.Message);
        Assert.DoesNotContain('\n', refusal.Message);
    }

    private static void AssertSectionRefused((string Id, ushort Version, byte[] Payload)[] sections, string expected)
    {
        byte[] snapshot = SnapshotSurgery.Build(sections);
        var refusal = Assert.Throws<SnapshotException>(() =>
        {
            var reader = SnapshotReader.Open(snapshot);
            reader.Read<ProbeSection>("probe");
            reader.EnsureEverySectionRead();
        });
        Assert.Contains(expected, refusal.Message);
        Assert.DoesNotContain('\n', refusal.Message);
    }
}
