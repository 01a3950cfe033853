namespace Actors.HwBackend.Devices.Apic;

/// <summary>
/// What a <see cref="LocalApic"/> needs from its owner (the vCPU's run loop). Both calls come from
/// any thread and never while an APIC lock is held, so the owner may call straight back into the
/// APIC or into other APICs.
/// </summary>
public interface ILocalApicSink
{
    /// <summary>
    /// <see cref="LocalApic.HasDeliverableInterrupt"/> may have become true, or an INIT or start-up
    /// IPI arrived: kick the vCPU out of guest code or wake it from HLT so it looks again.
    /// </summary>
    void InterruptRequested();

    /// <summary>
    /// An NMI arrived (an NMI IPI, a LINT pin or LVT entry in NMI mode): latch it in the processor
    /// and kick or wake it as for <see cref="InterruptRequested"/>. False when the processor held
    /// one already, so this one is lost (counted in <see cref="LocalApic.NmisDropped"/>).
    /// </summary>
    bool NmiRequested();

    /// <summary>
    /// <see cref="LocalApic.NextTimerEventNanoseconds"/> changed because of a guest write: re-plan
    /// the timer that calls <see cref="LocalApic.UpdateTimer"/>.
    /// </summary>
    void TimerProgrammed();
}
