using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="ResetControl"/>, for save/restore and live migration.</summary>
public sealed record ResetControlState(byte SystemControlPortA, byte ResetControlRegister) : ISnapshotSection<ResetControlState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteByte(SystemControlPortA);
        writer.WriteByte(ResetControlRegister);
    }

    public static ResetControlState Read(ref SnapshotSectionReader reader, ushort version) =>
        new(reader.ReadByte(), reader.ReadByte());
}
