namespace Actors.HwBackend.Devices.Apic;

/// <summary>
/// One interrupt message on the APIC bus (the system bus on anything newer than the P6): an IPI
/// from a local APIC's ICR or a redirected pin from an IOAPIC. A value type, passed by reference,
/// so sending one allocates nothing.
/// </summary>
/// <param name="Vector">Vector for Fixed and LowestPriority; the start-up page for StartUp; ignored otherwise.</param>
/// <param name="Destination">APIC ID (physical) or logical destination; 8 bits in xAPIC format, 32 in x2APIC format.</param>
/// <param name="LogicalDestination">Destination mode: logical (true) or physical.</param>
/// <param name="LevelTriggered">Trigger mode; a level-triggered Fixed interrupt sets the receiver's TMR bit so its EOI is broadcast.</param>
/// <param name="Assert">The level bit; false only for the INIT level de-assert, which modern processors ignore.</param>
/// <param name="SourceApicId">The sender's APIC ID, which the Self and AllExcludingSelf shorthands refer to.</param>
public readonly record struct ApicMessage(
    ApicDeliveryMode DeliveryMode,
    byte Vector,
    uint Destination,
    bool LogicalDestination,
    ApicShorthand Shorthand,
    bool LevelTriggered,
    bool Assert,
    uint SourceApicId);
