namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="Pit8254"/>, for save/restore and live migration.</summary>
/// <param name="Irq0Level">The level last driven onto IRQ 0.</param>
/// <param name="TicksSinceLastIrq0Edge">Input clocks since the channel 0 rising edge last delivered, or null if none counts.</param>
public sealed record Pit8254State(
    Pit8254ChannelState Channel0,
    Pit8254ChannelState Channel1,
    Pit8254ChannelState Channel2,
    bool Irq0Level,
    long? TicksSinceLastIrq0Edge);
