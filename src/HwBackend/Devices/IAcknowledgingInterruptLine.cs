namespace Actors.HwBackend.Devices;

/// <summary>
/// An interrupt line whose controller (or controllers, for an ISA line wired to the 8259 and the
/// IOAPIC) reports back when the guest acknowledges what the line raised. A device that gets such a
/// line may keep a backlog of ticks; on a plain <see cref="IInterruptLine"/> it cannot know when
/// the guest has taken an interrupt and raises every edge as it comes.
/// </summary>
public interface IAcknowledgingInterruptLine : IInterruptLine
{
    /// <summary>Registers the one listener of this line (null removes it). Set while the machine is built.</summary>
    void SetAcknowledgeListener(IInterruptAcknowledgeListener? listener);
}
