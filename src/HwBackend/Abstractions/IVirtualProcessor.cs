namespace Actors.HwBackend.Abstractions;

/// <summary>One virtual processor. <see cref="Run"/> is called from the vCPU's own thread only.</summary>
public interface IVirtualProcessor
{
    int Index { get; }

    /// <summary>Runs guest code until an exit. Port-in and MMIO-read exits must be completed before the next call.</summary>
    VpExit Run();

    void CompletePortIn(ulong value);

    void CompleteMmioRead(ulong value);

    /// <summary>Makes <see cref="Run"/> return <see cref="VpExitReason.StopRequested"/> soon; callable from any thread.</summary>
    void RequestStop();

    VpState GetState();

    void SetState(VpState state);

    /// <summary>Queues an external interrupt; it is delivered when RFLAGS.IF allows. Callable from any thread.</summary>
    void InjectExternalInterrupt(byte vector);

    /// <summary>Asks for an <see cref="VpExitReason.InterruptWindow"/> exit as soon as the guest can take an interrupt.</summary>
    void RequestInterruptWindow(bool enable);

    /// <summary>
    /// Connects this vCPU's local APIC: from now on the APIC base MSR, the xAPIC page, the x2APIC
    /// MSRs and CR8 are the controller's, and external interrupts come from its acknowledge cycle.
    /// Call before the first <see cref="Run"/>.
    /// </summary>
    void AttachInterruptController(ILocalInterruptController controller);

    /// <summary>The attached controller may have an interrupt to present; callable from any thread, never blocks.</summary>
    void NotifyInterruptController();

    ulong InstructionsRetired { get; }

    /// <summary>
    /// Exceptions and external interrupts delivered through the IDT or IVT (software INT n retires as
    /// an instruction instead). A guest stuck in an exception loop, such as a #UD handler that is
    /// itself <c>ud2</c>, retires nothing but delivers without end, so budgets count these too.
    /// </summary>
    ulong EventsDelivered { get; }
}
