using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// The state of one VP's <see cref="SyntheticInterruptController"/>: its registers and the messages
/// still waiting for a slot (they are the guest's, so they migrate with it). The pages themselves are guest RAM.
/// </summary>
public sealed record SyntheticInterruptControllerState(
    ulong Control,
    ulong Simp,
    ulong Siefp,
    IReadOnlyList<ulong> Sints,
    IReadOnlyList<SyntheticInterruptControllerState.WaitingMessage> Waiting) : ISnapshotSection<SyntheticInterruptControllerState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt64(Control);
        writer.WriteUInt64(Simp);
        writer.WriteUInt64(Siefp);
        writer.WriteUInt64s(Sints.ToArray(), SyntheticInterruptController.SintCount);
        writer.WriteInt32(Waiting.Count);
        foreach (WaitingMessage m in Waiting)
        {
            writer.WriteByte((byte)m.Sint);
            writer.WriteUInt32(m.Type);
            writer.WriteUInt64(m.Sender);
            writer.WriteByteArray(m.Payload);
        }
    }

    public static SyntheticInterruptControllerState Read(ref SnapshotSectionReader reader, ushort version)
    {
        ulong control = reader.ReadUInt64(), simp = reader.ReadUInt64(), siefp = reader.ReadUInt64();
        ulong[] sints = reader.ReadUInt64s(SyntheticInterruptController.SintCount);
        int count = reader.ReadInt32();
        int most = SyntheticInterruptController.SintCount * SyntheticInterruptController.MaxWaitingPerSint;
        if (count < 0 || count > most)
            throw reader.Refuse($"{count} waiting messages, more than the {most} a SynIC holds");
        var waiting = new List<WaitingMessage>(count);
        for (int i = 0; i < count; i++)
            waiting.Add(new WaitingMessage(reader.ReadByte(), reader.ReadUInt32(), reader.ReadUInt64(), reader.ReadByteArray()));
        return new SyntheticInterruptControllerState(control, simp, siefp, sints, waiting);
    }

    /// <summary>A message posted to <paramref name="Sint"/> that has not reached its slot yet.</summary>
    public sealed record WaitingMessage(int Sint, uint Type, ulong Sender, byte[] Payload);
}
