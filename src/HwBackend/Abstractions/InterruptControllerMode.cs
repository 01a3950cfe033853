namespace Actors.HwBackend.Abstractions;

/// <summary>
/// Where a machine's interrupt controllers are modelled. The platform chooses one of those its
/// backend offers (<see cref="BackendCapabilities.InterruptControllers"/>); nothing assumes one.
/// </summary>
[Flags]
public enum InterruptControllerMode
{
    None = 0,

    /// <summary>
    /// Every controller (local APICs, IOAPIC, 8259s) is a device model in this process; each vCPU's
    /// local APIC is attached to it (<see cref="IVirtualProcessor.AttachInterruptController"/>) and
    /// consulted on the vCPU's own thread. What the software CPU does.
    /// </summary>
    Userspace = 1,

    /// <summary>The local APICs live in the backend (KVM's split irqchip); the IOAPIC and the 8259s stay device models here.</summary>
    Split = 2,

    /// <summary>Every controller lives in the backend (KVM's in-kernel irqchip).</summary>
    InKernel = 4,
}
