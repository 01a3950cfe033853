using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Enlightenments;

/// <summary>The guest-visible state of an <see cref="HvPartition"/>, for save/restore and live migration.</summary>
public sealed record HvPartitionState(
    ulong GuestOsId,
    ulong Hypercall,
    ulong ReferenceTsc,
    IReadOnlyList<ulong> CrashParameters,
    ulong CrashControl,
    ulong TscInvariantControl,
    IReadOnlyList<ulong> VpAssistPages) : ISnapshotSection<HvPartitionState>
{
    private const int CrashParameterCount = 5;

    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt64(GuestOsId);
        writer.WriteUInt64(Hypercall);
        writer.WriteUInt64(ReferenceTsc);
        writer.WriteUInt64s(CrashParameters.ToArray(), CrashParameterCount);
        writer.WriteUInt64(CrashControl);
        writer.WriteUInt64(TscInvariantControl);
        writer.WriteInt32(VpAssistPages.Count);
        foreach (ulong page in VpAssistPages)
            writer.WriteUInt64(page);
    }

    public static HvPartitionState Read(ref SnapshotSectionReader reader, ushort version)
    {
        ulong guestOsId = reader.ReadUInt64(), hypercall = reader.ReadUInt64(), referenceTsc = reader.ReadUInt64();
        ulong[] crash = reader.ReadUInt64s(CrashParameterCount);
        ulong crashControl = reader.ReadUInt64(), tscInvariantControl = reader.ReadUInt64();
        int processors = reader.ReadInt32();
        if (processors is < 1 or > (int)HyperVCpuid.MaxVirtualProcessors)
            throw reader.Refuse($"{processors} VPs is outside 1..{HyperVCpuid.MaxVirtualProcessors}");
        return new(guestOsId, hypercall, referenceTsc, crash, crashControl, tscInvariantControl, reader.ReadUInt64s(processors));
    }
}
