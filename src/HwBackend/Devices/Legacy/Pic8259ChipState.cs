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
    byte Elcr);
