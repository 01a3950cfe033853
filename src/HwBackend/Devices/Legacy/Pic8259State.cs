namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="Pic8259Pair"/>, for save/restore and live migration.</summary>
public sealed record Pic8259State(Pic8259ChipState Master, Pic8259ChipState Slave);
