using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Worker;

/// <summary>
/// The size of the machine a snapshot was taken of. A restore needs a machine of the same shape (the
/// RAM is copied page for page, every vCPU and APIC has its section), and saying so up front gives a
/// clearer refusal than a missing or unknown "vcpu/4".
/// </summary>
internal sealed record MachineShape(int ProcessorCount, ulong MemoryBytes) : ISnapshotSection<MachineShape>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteInt32(ProcessorCount);
        writer.WriteUInt64(MemoryBytes);
    }

    public static MachineShape Read(ref SnapshotSectionReader reader, ushort version) =>
        new(reader.ReadInt32(), reader.ReadUInt64());

    public override string ToString() =>
        $"{ProcessorCount} vCPU{(ProcessorCount == 1 ? "" : "s")} and {(MemoryBytes % (1 << 20) == 0 ? $"{MemoryBytes >> 20} MiB" : $"{MemoryBytes} bytes")}";
}
