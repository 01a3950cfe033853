using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="Pic8259Pair"/>, for save/restore and live migration.</summary>
public sealed record Pic8259State(Pic8259ChipState Master, Pic8259ChipState Slave) : ISnapshotSection<Pic8259State>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        ArgumentNullException.ThrowIfNull(Master);
        ArgumentNullException.ThrowIfNull(Slave);
        Master.Write(writer);
        Slave.Write(writer);
    }

    public static Pic8259State Read(ref SnapshotSectionReader reader, ushort version) =>
        new(Pic8259ChipState.Read(ref reader, version), Pic8259ChipState.Read(ref reader, version));
}
