using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of one 8259A of a <see cref="Pic8259Pair"/>.</summary>
/// <param name="LineLevels">Current level of the eight input lines (edge detection needs the previous level).</param>
/// <param name="InitStep">0 = operational; 1, 2, 3 = next write to the odd port is ICW2, ICW3, ICW4.</param>
public sealed record Pic8259ChipState(
    byte LineLevels,
    byte Irr,
    byte Imr,
    byte Isr,
    byte LowestPriorityOffset,
    byte VectorBase,
    bool ReadIsr,
    bool Poll,
    bool SpecialMask,
    int InitStep,
    bool Icw4Expected,
    bool SingleMode,
    bool AutoEoi,
    bool RotateOnAutoEoi,
    bool SpecialFullyNested,
    bool Mode8086,
    byte Elcr)
{
    /// <summary>Part of the <see cref="Pic8259State"/> section.</summary>
    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteByte(LineLevels);
        writer.WriteByte(Irr);
        writer.WriteByte(Imr);
        writer.WriteByte(Isr);
        writer.WriteByte(LowestPriorityOffset);
        writer.WriteByte(VectorBase);
        writer.WriteBoolean(ReadIsr);
        writer.WriteBoolean(Poll);
        writer.WriteBoolean(SpecialMask);
        writer.WriteInt32(InitStep);
        writer.WriteBoolean(Icw4Expected);
        writer.WriteBoolean(SingleMode);
        writer.WriteBoolean(AutoEoi);
        writer.WriteBoolean(RotateOnAutoEoi);
        writer.WriteBoolean(SpecialFullyNested);
        writer.WriteBoolean(Mode8086);
        writer.WriteByte(Elcr);
    }

    /// <param name="version">The <see cref="Pic8259State"/> section's version.</param>
    public static Pic8259ChipState Read(ref SnapshotSectionReader reader, ushort version) => new(
        LineLevels: reader.ReadByte(),
        Irr: reader.ReadByte(),
        Imr: reader.ReadByte(),
        Isr: reader.ReadByte(),
        LowestPriorityOffset: reader.ReadByte(),
        VectorBase: reader.ReadByte(),
        ReadIsr: reader.ReadBoolean(),
        Poll: reader.ReadBoolean(),
        SpecialMask: reader.ReadBoolean(),
        InitStep: reader.ReadInt32(),
        Icw4Expected: reader.ReadBoolean(),
        SingleMode: reader.ReadBoolean(),
        AutoEoi: reader.ReadBoolean(),
        RotateOnAutoEoi: reader.ReadBoolean(),
        SpecialFullyNested: reader.ReadBoolean(),
        Mode8086: reader.ReadBoolean(),
        Elcr: reader.ReadByte());
}
