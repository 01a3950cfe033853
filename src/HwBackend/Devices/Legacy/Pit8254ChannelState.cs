using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of one counter of a <see cref="Pit8254"/>.</summary>
/// <param name="Mode">Mode bits 3:1 of the control word as written (6 and 7 alias 2 and 3).</param>
/// <param name="AccessMode">1 = LSB, 2 = MSB, 3 = LSB then MSB (0 only before the first control word).</param>
/// <param name="Reload">Initial count, 1..65536 (a written 0 means 65536).</param>
/// <param name="Armed">A count has been loaded since the last control word.</param>
/// <param name="Triggered">Modes 1 and 5: a gate rising edge has started the count.</param>
/// <param name="ElapsedTicks">Input clocks counted since the count (re)started, at save time; restore continues from here.</param>
/// <param name="Frozen">The gate stopped the count; <paramref name="ElapsedTicks"/> does not advance.</param>
/// <param name="LatchState">Bytes of a latched count still to read: 0 none, 1 LSB, 2 MSB, 3 LSB then MSB.</param>
public sealed record Pit8254ChannelState(
    byte Mode,
    byte AccessMode,
    bool Bcd,
    int Reload,
    bool Armed,
    bool Triggered,
    bool Gate,
    long ElapsedTicks,
    bool Frozen,
    bool ReadMsbNext,
    bool WriteMsbNext,
    byte WriteLatch,
    ushort LatchedCount,
    byte LatchState,
    bool StatusLatched,
    byte LatchedStatus,
    bool NullCount)
{
    /// <summary>Part of the <see cref="Pit8254State"/> section.</summary>
    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteByte(Mode);
        writer.WriteByte(AccessMode);
        writer.WriteBoolean(Bcd);
        writer.WriteInt32(Reload);
        writer.WriteBoolean(Armed);
        writer.WriteBoolean(Triggered);
        writer.WriteBoolean(Gate);
        writer.WriteInt64(ElapsedTicks);
        writer.WriteBoolean(Frozen);
        writer.WriteBoolean(ReadMsbNext);
        writer.WriteBoolean(WriteMsbNext);
        writer.WriteByte(WriteLatch);
        writer.WriteUInt16(LatchedCount);
        writer.WriteByte(LatchState);
        writer.WriteBoolean(StatusLatched);
        writer.WriteByte(LatchedStatus);
        writer.WriteBoolean(NullCount);
    }

    /// <param name="version">The <see cref="Pit8254State"/> section's version.</param>
    public static Pit8254ChannelState Read(ref SnapshotSectionReader reader, ushort version) => new(
        Mode: reader.ReadByte(),
        AccessMode: reader.ReadByte(),
        Bcd: reader.ReadBoolean(),
        Reload: reader.ReadInt32(),
        Armed: reader.ReadBoolean(),
        Triggered: reader.ReadBoolean(),
        Gate: reader.ReadBoolean(),
        ElapsedTicks: reader.ReadInt64(),
        Frozen: reader.ReadBoolean(),
        ReadMsbNext: reader.ReadBoolean(),
        WriteMsbNext: reader.ReadBoolean(),
        WriteLatch: reader.ReadByte(),
        LatchedCount: reader.ReadUInt16(),
        LatchState: reader.ReadByte(),
        StatusLatched: reader.ReadBoolean(),
        LatchedStatus: reader.ReadByte(),
        NullCount: reader.ReadBoolean());
}
