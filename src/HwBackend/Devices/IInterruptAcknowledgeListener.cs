namespace Actors.HwBackend.Devices;

/// <summary>
/// What an interrupt controller tells the device behind one of its inputs, so a periodic timer can
/// hold back ticks the guest has not taken yet and deliver them late instead of losing them (KVM's
/// PIT "reinject" mode uses the same two notifications: an ack notifier and a mask notifier). Calls
/// come on the thread that acknowledged or unmasked, never while the controller holds its lock, so
/// the listener may drive its line again at once.
/// </summary>
public interface IInterruptAcknowledgeListener
{
    /// <summary>
    /// The guest accepted the interrupt the line last raised: the 8259's INTA cycle took it, or the
    /// local APIC's EOI for the IOAPIC pin's vector arrived.
    /// </summary>
    void Acknowledged();

    /// <summary>
    /// The guest (re)opened the input: unmasked it, or reinitialised the controller, which forgets
    /// latched requests. An interrupt raised before may never be acknowledged, and ticks owed from
    /// while it was closed are stale.
    /// </summary>
    void Unmasked();
}
