using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// The guest-visible state of a <see cref="CmosRtc"/>, for save/restore and live migration.
/// <paramref name="Ram"/> is all 128 bytes (time registers hold the frozen time only while SET is
/// on). The guest's clock is kept as an offset from the host wall clock, so after a restore it
/// still tracks real time; <paramref name="LastEventCheckTicks"/> is the guest time up to which
/// interrupt flags have been computed.
/// </summary>
public sealed record CmosRtcState(
    byte[] Ram,
    byte Index,
    bool NmiMasked,
    long GuestOffsetTicks,
    long LastEventCheckTicks,
    bool InterruptAsserted) : ISnapshotSection<CmosRtcState>
{
    public static ushort SnapshotVersion => 1;

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteBytes(Ram, CmosRtc.RamSize);
        writer.WriteByte(Index);
        writer.WriteBoolean(NmiMasked);
        writer.WriteInt64(GuestOffsetTicks);
        writer.WriteInt64(LastEventCheckTicks);
        writer.WriteBoolean(InterruptAsserted);
    }

    public static CmosRtcState Read(ref SnapshotSectionReader reader, ushort version) =>
        new(reader.ReadBytes(CmosRtc.RamSize), reader.ReadByte(), reader.ReadBoolean(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadBoolean());
}
