using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// The guest-visible state of a <see cref="FwCfgDevice"/>: which item is selected and how far into
/// it the guest has read. The items themselves are configuration the machine rebuilds.
/// </summary>
public sealed record FwCfgState(ushort Selector, int Offset) : ISnapshotSection<FwCfgState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt16(Selector);
        writer.WriteInt32(Offset);
    }

    public static FwCfgState Read(ref SnapshotSectionReader reader, ushort version) =>
        new(reader.ReadUInt16(), reader.ReadInt32());
}
