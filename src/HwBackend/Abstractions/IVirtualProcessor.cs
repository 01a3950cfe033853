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

    /// <summary>
    /// The whole architectural state, for snapshots and migration. The accessors below exchange one
    /// group each, so a hypercall or an emulated MMIO access copies only what it uses. All of them:
    /// on the vCPU's own thread, or while it is parked.
    /// </summary>
    VpState GetState();

    void SetState(VpState state);

    GeneralRegisters GetGeneralRegisters();

    void SetGeneralRegisters(in GeneralRegisters registers);

    SystemRegisters GetSystemRegisters();

    /// <summary>Sets the mode-deciding registers; the backend drops whatever it cached under the old mode (TLBs, decoded code).</summary>
    void SetSystemRegisters(in SystemRegisters registers);

    /// <summary>x87, MMX and SSE state in the FXSAVE layout (512 bytes, Intel SDM vol. 1, table 10-2).</summary>
    void GetFpuState(Span<byte> fxsave);

    void SetFpuState(ReadOnlySpan<byte> fxsave);

    /// <summary>
    /// This vCPU's TSC minus the machine's clock, in TSC ticks (KVM's TSC offset). Every vCPU of a
    /// machine starts with the same one and keeps it until the guest writes its TSC; INIT keeps it.
    /// Copying it, unlike the TSC's value, does not lose the time between reading and writing.
    /// </summary>
    long TscOffset { get; set; }

    /// <summary>Reads an MSR as RDMSR would; false for an index this vCPU does not have (RDMSR would raise #GP).</summary>
    bool TryGetMsr(uint index, out ulong value);

    /// <summary>Writes an MSR as WRMSR would; false for an index or value WRMSR would refuse with #GP.</summary>
    bool TrySetMsr(uint index, ulong value);

    /// <summary>Queues an external interrupt; it is delivered when RFLAGS.IF allows. Callable from any thread.</summary>
    void InjectExternalInterrupt(byte vector);

    /// <summary>
    /// Latches a non-maskable interrupt: delivered as vector 2 at the next instruction boundary
    /// whatever RFLAGS.IF says, or after the IRET that ends the running NMI handler. Callable from
    /// any thread. False when one was latched already (the processor holds one): this one is lost.
    /// The caller wakes a halted vCPU, as for any interrupt.
    /// </summary>
    bool InjectNmi();

    /// <summary>Asks for an <see cref="VpExitReason.InterruptWindow"/> exit as soon as the guest can take an interrupt.</summary>
    void RequestInterruptWindow(bool enable);

    /// <summary>
    /// Connects this vCPU's local APIC when the machine runs with <see cref="InterruptControllerMode.Userspace"/>
    /// controllers: from now on the APIC base MSR, the xAPIC page, the x2APIC MSRs and CR8 are the
    /// controller's, and external interrupts come from its acknowledge cycle. Call before the first <see cref="Run"/>.
    /// </summary>
    void AttachInterruptController(ILocalInterruptController controller);

    /// <summary>
    /// This vCPU's local APIC, wherever it lives: the attached device model in userspace mode, the
    /// backend's own otherwise; null before one is attached. Its state is read through it.
    /// </summary>
    ILocalInterruptController? InterruptController { get; }

    /// <summary>
    /// Makes this vCPU enlightened: its hypervisor CPUID leaves and synthetic MSRs are these, and its
    /// hypercalls (<see cref="HypercallConvention"/>) go to <see cref="ISyntheticRegisters.Hypercall"/> once
    /// the guest enables them. Call before the first <see cref="Run"/>.
    /// </summary>
    void AttachSyntheticRegisters(ISyntheticRegisters registers);

    /// <summary>
    /// Where this vCPU reports MSRs and instructions that the guest used and the backend does not
    /// implement (the exits for ports and MMIO are the machine's to judge). Call before the first <see cref="Run"/>.
    /// </summary>
    void AttachUnimplementedSink(IUnimplementedSink sink);

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
