namespace Actors.Grains.Network;

/// <summary>
/// What became of one batch a port sent: the frames the switch took from <see cref="Sender"/> (null when
/// the port is not plugged in), and the frames it dropped, by reason. Deliveries drop more later, each
/// counted on its port.
/// </summary>
internal readonly record struct ForwardOutcome(
    PluggedPort? Sender,
    int FramesIn,
    long BytesIn,
    int Malformed = 0,
    int Unplugged = 0,
    int Spoofed = 0,
    int NoRoom = 0);
