namespace Actors.HwBackend.Devices.Apic;

/// <summary>Destination shorthand, ICR bits 19:18; anything but <see cref="None"/> ignores the destination field.</summary>
public enum ApicShorthand : byte
{
    None = 0,
    Self = 1,
    AllIncludingSelf = 2,
    AllExcludingSelf = 3,
}
