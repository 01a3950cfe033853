using Actors.HwBackend.Memory;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Boot;

/// <summary>
/// Writes the tables a PC's BIOS would leave in memory for the operating system: ACPI (RSDP, FACS,
/// RSDT, XSDT, MADT, FADT, DSDT) and the MP specification's floating pointer and configuration
/// table. We have no BIOS, but guests find processors and interrupt routing only through these.
/// <para>
/// Everything goes in one block at the start of the BIOS ROM range, 0xF0000: the MP floating
/// pointer first, then the RSDP, both on 16-byte boundaries where guests scan for them (ACPI:
/// 0xE0000-0xFFFFF; MP: 0xF0000-0xFFFFF among others), then the tables they point to. The
/// Multiboot memory map reports that range as reserved, so guests leave the tables alone.
/// </para>
/// </summary>
public static class FirmwareTables
{
    private const int Alignment = 16;
    private const ulong FourGiB = 1UL << 32;
    private const int MaxProcessors = 255;
    private const int RsdpOffset = MultiProcessorTables.FloatingPointerLength; // right after the MP floating pointer, 16-byte aligned

    /// <summary>Where the RSDP is, whatever the layout: a Linux loader hands it to the kernel before the tables exist.</summary>
    public const ulong RsdpAddress = LegacyPcMemory.BiosRomStart + RsdpOffset;

    /// <summary>
    /// Builds the tables for <paramref name="layout"/> and writes them to guest RAM, after
    /// checking that they fit; a layout that does not is refused with an
    /// <see cref="ArgumentException"/> before anything is written.
    /// </summary>
    public static FirmwareTableInfo Write(GuestPhysicalMap memory, FirmwareTableLayout layout)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(layout);
        Validate(layout);

        int floatingPointer = 0;
        int rsdp = RsdpOffset;
        int configuration = AlignUp(rsdp + AcpiTables.RsdpLength);
        int configurationLength = MultiProcessorTables.ConfigurationTableLength(layout.ProcessorCount);
        int rsdt = AlignUp(configuration + configurationLength);
        int xsdt = AlignUp(rsdt + AcpiTables.RsdtLength(2));
        int fadt = AlignUp(xsdt + AcpiTables.XsdtLength(2));
        int dsdt = AlignUp(fadt + AcpiTables.FadtLength);
        int madt = AlignUp(dsdt + AcpiTables.DsdtLength(layout.VmBus));
        int madtLength = AcpiTables.MadtLength(layout.ProcessorCount);
        int facs = (madt + madtLength + AcpiTables.FacsAlignment - 1) & ~(AcpiTables.FacsAlignment - 1);
        int size = facs + AcpiTables.FacsLength;

        ulong start = LegacyPcMemory.BiosRomStart;
        ulong end = start + (ulong)size;
        if (end > LegacyPcMemory.UpperMemoryStart)
            throw new ArgumentException($"the firmware tables for {layout.ProcessorCount} processors need {size} bytes, more than the BIOS area [0x{start:x}, 0x{LegacyPcMemory.UpperMemoryStart:x}) holds", nameof(layout));
        if (!memory.IsRam(start, (ulong)size))
            throw new ArgumentException($"the firmware table area [0x{start:x}, 0x{end:x}) is not RAM in this guest's memory map", nameof(layout));

        var info = new FirmwareTableInfo(
            Rsdp: start + (ulong)rsdp,
            Rsdt: start + (ulong)rsdt,
            Xsdt: start + (ulong)xsdt,
            Madt: start + (ulong)madt,
            Fadt: start + (ulong)fadt,
            Dsdt: start + (ulong)dsdt,
            Facs: start + (ulong)facs,
            MpFloatingPointer: start + (ulong)floatingPointer,
            MpConfigurationTable: start + (ulong)configuration);

        // Gaps between tables are zero, whatever the RAM held before.
        var block = new byte[size];
        var span = block.AsSpan();
        MultiProcessorTables.WriteFloatingPointer(span.Slice(floatingPointer, MultiProcessorTables.FloatingPointerLength), info.MpConfigurationTable);
        MultiProcessorTables.WriteConfigurationTable(span.Slice(configuration, configurationLength), layout);
        AcpiTables.WriteRsdp(span.Slice(rsdp, AcpiTables.RsdpLength), info.Rsdt, info.Xsdt);
        ReadOnlySpan<ulong> described = [info.Madt, info.Fadt];
        AcpiTables.WriteRsdt(span.Slice(rsdt, AcpiTables.RsdtLength(described.Length)), described);
        AcpiTables.WriteXsdt(span.Slice(xsdt, AcpiTables.XsdtLength(described.Length)), described);
        AcpiTables.WriteFadt(span.Slice(fadt, AcpiTables.FadtLength), info.Facs, info.Dsdt);
        AcpiTables.WriteFacs(span.Slice(facs, AcpiTables.FacsLength));
        AcpiTables.WriteDsdt(span.Slice(dsdt, AcpiTables.DsdtLength(layout.VmBus)), layout.VmBus);
        AcpiTables.WriteMadt(span.Slice(madt, madtLength), layout);
        memory.Write(start, block);
        return info;
    }

    /// <summary>Refuses what the tables' fields cannot express.</summary>
    private static void Validate(FirmwareTableLayout layout)
    {
        if (layout.ProcessorCount is < 1 or > MaxProcessors)
            throw new ArgumentException($"processor count {layout.ProcessorCount} is outside 1-{MaxProcessors} (APIC IDs are 8 bits and 0xFF addresses all processors)", nameof(layout));
        if (layout.IoApicId > byte.MaxValue)
            throw new ArgumentException($"I/O APIC ID {layout.IoApicId} does not fit the tables' 8-bit ID fields", nameof(layout));
        if (layout.IoApicAddress >= FourGiB)
            throw new ArgumentException($"I/O APIC address 0x{layout.IoApicAddress:x} is above 4 GiB; the MADT and MP table hold 32-bit addresses", nameof(layout));
        if (layout.LocalApicAddress >= FourGiB)
            throw new ArgumentException($"local APIC address 0x{layout.LocalApicAddress:x} is above 4 GiB; the MADT and MP table hold 32-bit addresses", nameof(layout));
    }

    private static int AlignUp(int offset) => (offset + Alignment - 1) & ~(Alignment - 1);
}
