using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.VmBus;

/// <summary>
/// Where a partition's VMBus connection stands: whether the guest made contact, at which protocol
/// version, and the VP and SINT that our messages go to; the monitor pages it named are kept for
/// the channels that will use them. Saved as the <c>vmbus</c> section, so a migrated guest stays connected.
/// </summary>
public sealed record VmBusState(bool Connected, uint Version, uint TargetVp, int MessageSint, ulong MonitorPage1, ulong MonitorPage2)
    : ISnapshotSection<VmBusState>
{
    public static readonly VmBusState Disconnected = new(false, 0, 0, VmBusProtocol.DefaultMessageSint, 0, 0);

    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteBoolean(Connected);
        writer.WriteUInt32(Version);
        writer.WriteUInt32(TargetVp);
        writer.WriteInt32(MessageSint);
        writer.WriteUInt64(MonitorPage1);
        writer.WriteUInt64(MonitorPage2);
    }

    public static VmBusState Read(ref SnapshotSectionReader reader, ushort version) =>
        new(reader.ReadBoolean(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadInt32(), reader.ReadUInt64(), reader.ReadUInt64());
}
