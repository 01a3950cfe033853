using Actors.HwBackend.Devices.Apic;

namespace Actors.HwBackend.Abstractions;

/// <summary>
/// A vCPU's local interrupt controller (its local APIC) as the processor sees it: the APIC base MSR,
/// the xAPIC register page, the x2APIC MSRs, CR8, and the interrupt-acknowledge cycle. A backend
/// that models the APIC in process (the software CPU) calls it directly on the vCPU's own thread,
/// without an exit; this is the userspace equivalent of KVM's in-kernel irqchip.
/// <para>
/// Everything here except <see cref="HasDeliverableInterrupt"/> is called on the owning vCPU's
/// thread. The controller tells the processor to look again through
/// <see cref="IVirtualProcessor.NotifyInterruptController"/> whenever the answer of
/// <see cref="HasDeliverableInterrupt"/> may have become true.
/// </para>
/// </summary>
public interface ILocalInterruptController
{
    /// <summary>IA32_APIC_BASE (MSR 0x1B): base address, bit 8 BSP, bit 10 x2APIC mode, bit 11 enable.</summary>
    ulong ApicBaseMsr { get; }

    /// <summary>Writes IA32_APIC_BASE; false for a value the SDM says raises #GP (reserved bits, an illegal mode change).</summary>
    bool TryWriteApicBaseMsr(ulong value);

    /// <summary>
    /// The guest-physical page the xAPIC registers decode at, or <see cref="ulong.MaxValue"/> while
    /// they do not (the APIC is disabled or in x2APIC mode): accesses then go to whatever else is there.
    /// </summary>
    ulong MmioBase { get; }

    /// <summary>A read inside the xAPIC page; <paramref name="offset"/> is 0..0xFFF, <paramref name="size"/> 1, 2, 4 or 8.</summary>
    ulong ReadMmio(uint offset, int size);

    /// <summary>A write inside the xAPIC page.</summary>
    void WriteMmio(uint offset, int size, ulong value);

    /// <summary>True for the MSRs this controller owns: the x2APIC range 0x800-0x8FF and IA32_TSC_DEADLINE (0x6E0).</summary>
    bool OwnsMsr(uint index);

    /// <summary>Reads an owned MSR; false means #GP (x2APIC mode off, a write-only or reserved register).</summary>
    bool TryReadMsr(uint index, out ulong value);

    /// <summary>Writes an owned MSR, other than IA32_TSC_DEADLINE; false means #GP.</summary>
    bool TryWriteMsr(uint index, ulong value);

    /// <summary>
    /// IA32_TSC_DEADLINE as the guest wrote it, in TSC ticks. <paramref name="clockNanoseconds"/> is
    /// the same deadline on the platform clock (the caller knows its TSC's offset and rate); zero
    /// disarms. Ignored unless the LVT timer is in TSC-deadline mode, as on hardware.
    /// </summary>
    void WriteTscDeadline(ulong tscValue, long clockNanoseconds);

    /// <summary>IA32_TSC_DEADLINE as last written (0 once it has fired or been disarmed).</summary>
    ulong TscDeadline { get; }

    /// <summary>CR8: the task-priority class, TPR bits 7:4.</summary>
    int TaskPriorityClass { get; set; }

    /// <summary>
    /// True when the controller would present an interrupt to the processor now: a requested
    /// vector above the processor priority, or an ExtINT from the 8259 through LINT0. Cheap; any thread.
    /// </summary>
    bool HasDeliverableInterrupt { get; }

    /// <summary>
    /// The interrupt-acknowledge cycle, once the processor can take an interrupt (IF set, no shadow):
    /// returns the vector and moves it from IRR to ISR. Returns the spurious vector when the request
    /// went away in between, and -1 when there is nothing at all.
    /// </summary>
    int AcknowledgeInterrupt();

    /// <summary>
    /// <see cref="HasDeliverableInterrupt"/> and <see cref="AcknowledgeInterrupt"/> in one step, for a
    /// processor that can take an interrupt now: the vector, or -1 when the controller presents none.
    /// </summary>
    int TryAcknowledgeInterrupt();

    /// <summary>The controller's whole guest-visible state; with every vCPU parked.</summary>
    LocalApicState SaveState();

    /// <summary>Makes the controller the one <paramref name="state"/> was saved from; with every vCPU parked.</summary>
    void RestoreState(LocalApicState state);
}
