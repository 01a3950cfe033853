namespace Actors.HwBackend.Boot;

/// <summary>
/// Where <see cref="FirmwareTables.Write"/> put each table, as guest-physical addresses. The RSDP
/// address is what a Linux boot protocol loader stores in the zero page (<c>acpi_rsdp_addr</c>);
/// guests without one find the RSDP and the MP floating pointer by scanning.
/// </summary>
public sealed record FirmwareTableInfo(
    ulong Rsdp,
    ulong Rsdt,
    ulong Xsdt,
    ulong Madt,
    ulong Fadt,
    ulong Dsdt,
    ulong Facs,
    ulong MpFloatingPointer,
    ulong MpConfigurationTable);
