using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Abstractions;

/// <summary>GDTR or IDTR: linear base and limit.</summary>
public record struct DescriptorTableRegister(ulong Base, ushort Limit)
{
    /// <summary>Part of a vCPU's snapshot section.</summary>
    public readonly void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt64(Base);
        writer.WriteUInt16(Limit);
    }

    public static DescriptorTableRegister Read(ref SnapshotSectionReader reader) => new(reader.ReadUInt64(), reader.ReadUInt16());
}
