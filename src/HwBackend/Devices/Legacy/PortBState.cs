using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// The state of <see cref="PortB"/> that is not the PIT's: bits 3:1 as last written (bit 0, the
/// channel 2 gate, lives in <see cref="Pit8254State"/>) and the refresh toggle.
/// </summary>
public sealed record PortBState(byte Control, bool RefreshToggle) : ISnapshotSection<PortBState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteByte(Control);
        writer.WriteBoolean(RefreshToggle);
    }

    public static PortBState Read(ref SnapshotSectionReader reader, ushort version) =>
        new(reader.ReadByte(), reader.ReadBoolean());
}
