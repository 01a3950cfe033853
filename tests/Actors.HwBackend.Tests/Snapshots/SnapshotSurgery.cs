using System.Buffers.Binary;
using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Tests.Snapshots;

/// <summary>Takes real snapshots apart and puts them back together with a fault in them, sealed as a writer would.</summary>
internal static class SnapshotSurgery
{
    public static List<(string Id, ushort Version, byte[] Payload)> Sections(byte[] snapshot)
    {
        var reader = SnapshotReader.Open(snapshot);
        var sections = new List<(string, ushort, byte[])>();
        for (int i = 0; i < reader.Sections.Count; i++)
            sections.Add((reader.Sections[i].Id, reader.Sections[i].Version, reader.Payload(i).ToArray()));
        return sections;
    }

    public static byte[] Build(IEnumerable<(string Id, ushort Version, byte[] Payload)> sections)
    {
        using var writer = new SnapshotWriter();
        foreach (var (id, version, payload) in sections)
            writer.AddVerbatim(id, version, payload);
        return writer.ToArray();
    }

    /// <summary>Rewrites the integrity check after an edit, so the edit reaches the parsers behind it.</summary>
    public static void Reseal(byte[] snapshot)
    {
        if (snapshot.Length < 4)
            return;
        BinaryPrimitives.WriteUInt32LittleEndian(snapshot.AsSpan(snapshot.Length - 4), Crc32C.Compute(snapshot.AsSpan(0, snapshot.Length - 4)));
    }
}
