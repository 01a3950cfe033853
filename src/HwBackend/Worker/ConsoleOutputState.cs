using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Worker;

/// <summary>
/// Where a machine's console output stands: the retained tail and the sequence number of its first
/// byte, so a restored machine numbers its output on and late subscribers still see the tail.
/// </summary>
internal sealed record ConsoleOutputState(long Sequence, byte[] Tail) : ISnapshotSection<ConsoleOutputState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteInt64(Sequence);
        writer.WriteByteArray(Tail);
    }

    public static ConsoleOutputState Read(ref SnapshotSectionReader reader, ushort version) =>
        new(reader.ReadInt64(), reader.ReadByteArray());
}
