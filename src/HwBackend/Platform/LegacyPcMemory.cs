namespace Actors.HwBackend.Platform;

/// <summary>
/// The PC's first megabyte as guests expect it: conventional memory up to the extended BIOS data
/// area, then the VGA window, option ROMs and the system BIOS. We emulate no VGA and no BIOS, but
/// guests still scan [<see cref="BiosAreaStart"/>, <see cref="UpperMemoryStart"/>) for the ACPI
/// RSDP and the MP floating pointer, so firmware tables live there and the memory map must not
/// offer that range (or anything else between the EBDA and 1 MiB) as free RAM.
/// </summary>
internal static class LegacyPcMemory
{
    /// <summary>
    /// End of the RAM reported as usable below 1 MiB: 639 KiB, where SeaBIOS and Firecracker start
    /// the (1 KiB) EBDA. Reporting the same lets guests that were tested there make the same
    /// assumptions here.
    /// </summary>
    public const ulong ConventionalMemoryEnd = 0x9FC00;

    /// <summary>Start of the range ACPI (section 5.2.5.1) says to scan for the RSDP.</summary>
    public const ulong BiosAreaStart = 0xE0000;

    /// <summary>
    /// Start of the system BIOS ROM: the MP specification (section 4) lists it as a place for the
    /// floating pointer, and it is within the RSDP scan range too.
    /// </summary>
    public const ulong BiosRomStart = 0xF0000;

    /// <summary>1 MiB: extended memory starts here, and the legacy area ends.</summary>
    public const ulong UpperMemoryStart = 0x100000;
}
