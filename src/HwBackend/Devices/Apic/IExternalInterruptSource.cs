namespace Actors.HwBackend.Devices.Apic;

/// <summary>
/// An interrupt controller outside the local APIC that presents one interrupt at a time over an
/// INTR pin and hands out its vector in an interrupt-acknowledge (INTA) cycle: the 8259 pair. The
/// local APIC passes it through LINT0 in ExtINT mode ("virtual wire") or, hardware-disabled,
/// straight to the processor.
/// </summary>
public interface IExternalInterruptSource
{
    /// <summary>The level of the INTR pin: an unmasked request is waiting for an INTA cycle.</summary>
    bool InterruptPending { get; }

    /// <summary>The INTA cycle: returns the vector and puts the request in service.</summary>
    byte Acknowledge();
}
