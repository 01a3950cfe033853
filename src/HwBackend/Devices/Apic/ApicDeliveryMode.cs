namespace Actors.HwBackend.Devices.Apic;

/// <summary>
/// Delivery mode of an interrupt message, bits 10:8 of the ICR, an LVT entry or an IOAPIC
/// redirection entry. Value 3 is reserved; a message carrying it is dropped by its receivers.
/// </summary>
public enum ApicDeliveryMode : byte
{
    Fixed = 0,
    LowestPriority = 1,
    Smi = 2,
    Nmi = 4,
    Init = 5,
    StartUp = 6,
    ExtInt = 7,
}
