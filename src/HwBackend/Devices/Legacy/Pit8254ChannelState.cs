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
    bool NullCount);
