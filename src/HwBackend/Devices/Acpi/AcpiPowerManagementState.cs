using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Acpi;

/// <summary>The guest-visible state of <see cref="AcpiPowerManagement"/> (the PM timer is guest time, so it has none of its own).</summary>
public sealed record AcpiPowerManagementState(ushort Status, ushort Enable, ushort Control) : ISnapshotSection<AcpiPowerManagementState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt16(Status);
        writer.WriteUInt16(Enable);
        writer.WriteUInt16(Control);
    }

    public static AcpiPowerManagementState Read(ref SnapshotSectionReader reader, ushort version) =>
        new(reader.ReadUInt16(), reader.ReadUInt16(), reader.ReadUInt16());
}
