using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.VmBus;

/// <summary>
/// Where a partition's VMBus stands: whether the guest made contact, at which protocol version,
/// the VP and SINT that our messages go to, the monitor pages it named, every channel and GPADL,
/// the channels the host has withdrawn (rescinded) and those of them whose relid the guest has not
/// released yet. Saved as the <c>vmbus</c> section, so a migrated guest keeps its bus and open channels.
/// </summary>
public sealed record VmBusState(
    bool Connected,
    uint Version,
    uint TargetVp,
    int MessageSint,
    ulong MonitorPage1,
    ulong MonitorPage2,
    IReadOnlyList<VmBusChannelState> Channels,
    IReadOnlyList<Gpadl> Gpadls,
    IReadOnlyList<uint>? Withdrawn = null,
    IReadOnlyList<uint>? Releasing = null) : ISnapshotSection<VmBusState>
{
    public static readonly VmBusState Disconnected = new(false, 0, 0, VmBusProtocol.DefaultMessageSint, 0, 0, [], []);

    /// <summary>Version 2 added the withdrawn and releasing channels; a version 1 section has none.</summary>
    public static ushort SnapshotVersion => 2;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteBoolean(Connected);
        writer.WriteUInt32(Version);
        writer.WriteUInt32(TargetVp);
        writer.WriteInt32(MessageSint);
        writer.WriteUInt64(MonitorPage1);
        writer.WriteUInt64(MonitorPage2);
        writer.WriteInt32(Channels.Count);
        foreach (VmBusChannelState c in Channels)
        {
            writer.WriteUInt32(c.ChannelId);
            writer.WriteBoolean(c.Open);
            writer.WriteUInt32(c.OpenId);
            writer.WriteUInt32(c.RingGpadl);
            writer.WriteUInt32(c.TargetVp);
            writer.WriteUInt32(c.DownstreamPageOffset);
        }
        writer.WriteInt32(Gpadls.Count);
        foreach (Gpadl g in Gpadls)
        {
            writer.WriteUInt32(g.Handle);
            writer.WriteUInt32(g.ChannelId);
            writer.WriteUInt32(g.ByteCount);
            writer.WriteUInt32(g.ByteOffset);
            writer.WriteInt32(g.Received);
            writer.WriteInt32(g.Pages.Length);
            writer.WriteUInt64s(g.Pages, g.Pages.Length);
        }
        WriteRelids(writer, Withdrawn ?? []);
        WriteRelids(writer, Releasing ?? []);
    }

    private static void WriteRelids(SnapshotSectionWriter writer, IReadOnlyList<uint> relids)
    {
        writer.WriteInt32(relids.Count);
        foreach (uint relid in relids)
            writer.WriteUInt32(relid);
    }

    private static uint[] ReadRelids(ref SnapshotSectionReader reader)
    {
        int count = reader.ReadInt32();
        if (count is < 0 or > VmBusProtocol.MaxChannels)
            throw reader.Refuse($"{count} withdrawn channels, more than the {VmBusProtocol.MaxChannels} a bus offers");
        var relids = new uint[count];
        for (int i = 0; i < count; i++)
            relids[i] = reader.ReadUInt32();
        return relids;
    }

    public static VmBusState Read(ref SnapshotSectionReader reader, ushort version)
    {
        bool connected = reader.ReadBoolean();
        uint busVersion = reader.ReadUInt32(), targetVp = reader.ReadUInt32();
        int sint = reader.ReadInt32();
        ulong monitor1 = reader.ReadUInt64(), monitor2 = reader.ReadUInt64();
        int channelCount = reader.ReadInt32();
        if (channelCount is < 0 or > VmBusProtocol.MaxChannels)
            throw reader.Refuse($"{channelCount} channels, more than the {VmBusProtocol.MaxChannels} a bus offers");
        var channels = new List<VmBusChannelState>(channelCount);
        for (int i = 0; i < channelCount; i++)
            channels.Add(new(reader.ReadUInt32(), reader.ReadBoolean(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32()));
        int gpadlCount = reader.ReadInt32();
        if (gpadlCount is < 0 or > VmBusProtocol.MaxGpadls)
            throw reader.Refuse($"{gpadlCount} GPADLs, more than the {VmBusProtocol.MaxGpadls} a bus holds");
        var gpadls = new List<Gpadl>(gpadlCount);
        long pages = 0;
        for (int i = 0; i < gpadlCount; i++)
        {
            uint handle = reader.ReadUInt32(), channel = reader.ReadUInt32(), byteCount = reader.ReadUInt32(), byteOffset = reader.ReadUInt32();
            int received = reader.ReadInt32(), count = reader.ReadInt32();
            pages += count;
            if (count < 1 || pages > VmBusProtocol.MaxGpadlPages || received < 0 || received > count)
                throw reader.Refuse($"GPADL 0x{handle:x} has {received} of {count} pages, or the bus more than {VmBusProtocol.MaxGpadlPages}");
            gpadls.Add(new Gpadl(handle, channel, byteCount, byteOffset, reader.ReadUInt64s(count), received));
        }
        uint[] withdrawn = version >= 2 ? ReadRelids(ref reader) : [];
        uint[] releasing = version >= 2 ? ReadRelids(ref reader) : [];
        return new VmBusState(connected, busVersion, targetVp, sint, monitor1, monitor2, channels, gpadls, withdrawn, releasing);
    }
}
