using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Worker;

/// <summary>An <see cref="UnimplementedLog"/> in a snapshot, so a migrated VM keeps its counts and does not report the same thing twice.</summary>
internal sealed record UnimplementedLogState(IReadOnlyList<UnimplementedUse> Uses, long Overflow) : ISnapshotSection<UnimplementedLogState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteInt32(Uses.Count);
        foreach (UnimplementedUse use in Uses)
        {
            writer.WriteByte((byte)use.Kind);
            writer.WriteUInt64(use.What);
            writer.WriteUInt64(use.FirstAddress);
            writer.WriteInt64(use.Count);
        }
        writer.WriteInt64(Overflow);
    }

    public static UnimplementedLogState Read(ref SnapshotSectionReader reader, ushort version)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > UnimplementedLog.MaxEntries)
            throw reader.Refuse($"{count} entries, more than the {UnimplementedLog.MaxEntries} a log holds");
        var uses = new List<UnimplementedUse>(count);
        for (int i = 0; i < count; i++)
        {
            byte kind = reader.ReadByte();
            if (!Enum.IsDefined((UnimplementedKind)kind))
                throw reader.Refuse($"entry {i} has unknown kind {kind}");
            ulong what = reader.ReadUInt64(), firstAddress = reader.ReadUInt64();
            long times = reader.ReadInt64();
            if (times < 1)
                throw reader.Refuse($"entry {i} was used {times} times");
            uses.Add(new UnimplementedUse((UnimplementedKind)kind, what, firstAddress, times));
        }

        long overflow = reader.ReadInt64();
        if (overflow < 0)
            throw reader.Refuse($"overflow count {overflow} is negative");
        return new UnimplementedLogState(uses, overflow);
    }
}
