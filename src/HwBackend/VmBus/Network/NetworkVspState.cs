using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.VmBus.Network;

/// <summary>
/// What a network adapter's guest negotiated, saved as the adapter's section so that a moved VM's
/// adapter carries on without the guest noticing: the NVSP version, the GPADLs of the receive and
/// send buffers (the buffers are guest memory), the receive buffer's page set id and generation,
/// whether RNDIS is initialised with which packet filter, the receive sections the guest has
/// not yet given back, and (from version 2) whether it asked for received frames' checksums to be
/// vouched for.
/// </summary>
public sealed record NetworkVspState(
    uint Version,
    uint ReceiveGpadl,
    ushort ReceivePageSet,
    uint SendGpadl,
    uint ReceiveGeneration,
    bool RndisReady,
    uint PacketFilter,
    int[] SectionsInUse) : ISnapshotSection<NetworkVspState>
{
    public static ushort SnapshotVersion => 2;

    public bool ReceiveChecksums { get; init; }

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt32(Version);
        writer.WriteUInt32(ReceiveGpadl);
        writer.WriteUInt16(ReceivePageSet);
        writer.WriteUInt32(SendGpadl);
        writer.WriteUInt32(ReceiveGeneration);
        writer.WriteBoolean(RndisReady);
        writer.WriteUInt32(PacketFilter);
        writer.WriteInt32(SectionsInUse.Length);
        foreach (int section in SectionsInUse)
            writer.WriteInt32(section);
        writer.WriteBoolean(ReceiveChecksums);
    }

    public static NetworkVspState Read(ref SnapshotSectionReader reader, ushort version)
    {
        (uint nvsp, uint receive, ushort pageSet, uint send, uint generation) = (reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt16(), reader.ReadUInt32(), reader.ReadUInt32());
        (bool ready, uint filter, int count) = (reader.ReadBoolean(), reader.ReadUInt32(), reader.ReadInt32());
        if (count is < 0 or > NetworkVsp.MaximumSections)
            throw reader.Refuse($"{count} receive sections in use, more than an adapter has");
        int[] sections = new int[count];
        for (int i = 0; i < count; i++)
            sections[i] = reader.ReadInt32();
        bool receiveChecksums = version >= 2 && reader.ReadBoolean();
        return new NetworkVspState(nvsp, receive, pageSet, send, generation, ready, filter, sections) { ReceiveChecksums = receiveChecksums };
    }
}
