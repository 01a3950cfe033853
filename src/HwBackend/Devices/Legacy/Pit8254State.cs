namespace Actors.HwBackend.Devices.Legacy;

/// <summary>The guest-visible state of a <see cref="Pit8254"/>, for save/restore and live migration.</summary>
/// <param name="Irq0Level">The level last driven onto IRQ 0.</param>
/// <param name="TicksSinceLastIrq0Edge">Input clocks since the channel 0 rising edge last delivered, or null if none counts.</param>
/// <param name="Irq0PendingTicks">Channel 0 edges owed to the guest and not yet raised (the tick backlog); 0 in states saved before it existed.</param>
/// <param name="Irq0AwaitingAcknowledge">An IRQ 0 edge was raised and no interrupt controller has reported it acknowledged.</param>
public sealed record Pit8254State(
    Pit8254ChannelState Channel0,
    Pit8254ChannelState Channel1,
    Pit8254ChannelState Channel2,
    bool Irq0Level,
    long? TicksSinceLastIrq0Edge,
    int Irq0PendingTicks = 0,
    bool Irq0AwaitingAcknowledge = false);
