using System.Buffers.Binary;
using System.Text;

namespace Actors.HwBackend.Boot;

/// <summary>
/// The ACPI tables a PC guest needs to find its processors and interrupt controllers (ACPI 6.x,
/// chapter 5.2): the RSDP, an RSDT and an XSDT (old and new guests follow different ones), the
/// MADT, and a FADT with the empty DSDT it must point to. Each writer fills a span of exactly the
/// table's length and checksums it; <see cref="FirmwareTables"/> decides the addresses.
/// </summary>
internal static class AcpiTables
{
    public const string OemId = "ACTORS";
    public const string OemTableId = "ACTORSVM";
    public const string CreatorId = "ACTR";

    public const int RsdpLength = 36;
    public const int HeaderLength = 36;

    /// <summary>The FADT as ACPI 6.0 defines it (revision 6, through the hypervisor vendor identity).</summary>
    public const int FadtLength = 276;

    /// <summary>A DSDT with no definition block: the header alone is a valid, empty namespace.</summary>
    public const int DsdtLength = HeaderLength;

    private const int RsdpChecksumLength = 20;
    private const byte RsdpRevision = 2; // ACPI 2.0 and later: has the length, XSDT and extended checksum
    private const byte RsdtRevision = 1;
    private const byte XsdtRevision = 1;
    private const byte MadtRevision = 4; // ACPI 6.0
    private const byte FadtRevision = 6;
    private const byte FadtMinorRevision = 0;
    private const byte DsdtRevision = 2; // AML integers are 64 bits wide
    private const uint OemRevision = 1;
    private const uint CreatorRevision = 1;

    private const int MadtFixedLength = 44;
    private const int MadtLocalApicLength = 8;
    private const int MadtIoApicLength = 12;
    private const int MadtSourceOverrideLength = 10;
    private const int MadtLocalApicNmiLength = 6;
    private const byte MadtTypeLocalApic = 0;
    private const byte MadtTypeIoApic = 1;
    private const byte MadtTypeSourceOverride = 2;
    private const byte MadtTypeLocalApicNmi = 4;
    private const uint MadtPcAtCompatible = 1u << 0; // dual 8259s are present as well
    private const uint MadtLocalApicEnabled = 1u << 0;
    private const byte AllProcessors = 0xFF;
    private const byte NmiLint = 1;

    // The PIT's IRQ 0 is wired to I/O APIC pin 2 (pin 0 takes the 8259's ExtINT), as on QEMU's
    // machines. Without PCI there are no level-triggered ISA interrupts to override.
    private const byte IsaBus = 0;
    private const byte TimerIrq = 0;
    private const uint TimerGsi = 2;

    private const ushort SciInterrupt = 9;

    // IA-PC boot architecture flags (5.2.9.3): legacy ISA devices (COM1, PIT, RTC) are present,
    // there is no VGA and, with no PCI, no MSI. The 8042 flag stays clear: we decode its ports
    // only for the reset command, and a guest told there is a keyboard controller would probe it.
    private const ushort BootArchLegacyDevices = 1 << 0;
    private const ushort BootArchVgaNotPresent = 1 << 2;
    private const ushort BootArchMsiNotSupported = 1 << 3;

    // Fixed feature flags (5.2.9, table 5.10): WBINVD works, HLT gives C1 on every processor, and
    // the power and sleep buttons are not fixed hardware (there are none). TMR_VAL_EXT stays clear
    // because there is no PM timer; nothing claims the reset register or a hardware-reduced platform.
    private const uint FadtWbinvd = 1u << 0;
    private const uint FadtProcC1 = 1u << 2;
    private const uint FadtPowerButton = 1u << 4;
    private const uint FadtSleepButton = 1u << 5;

    public static int RsdtLength(int tables) => HeaderLength + (tables * 4);

    public static int XsdtLength(int tables) => HeaderLength + (tables * 8);

    public static int MadtLength(int processors) =>
        MadtFixedLength + (processors * MadtLocalApicLength) + MadtIoApicLength + MadtSourceOverrideLength + MadtLocalApicNmiLength;

    /// <summary>The Root System Description Pointer, revision 2, with both checksums.</summary>
    public static void WriteRsdp(Span<byte> rsdp, ulong rsdtAddress, ulong xsdtAddress)
    {
        rsdp.Clear();
        Encoding.ASCII.GetBytes("RSD PTR ", rsdp);
        FirmwareTableBytes.Ascii(rsdp[9..], 6, OemId);
        rsdp[15] = RsdpRevision;
        BinaryPrimitives.WriteUInt32LittleEndian(rsdp[16..], (uint)rsdtAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(rsdp[20..], RsdpLength);
        BinaryPrimitives.WriteUInt64LittleEndian(rsdp[24..], xsdtAddress);
        // The ACPI 1.0 checksum covers the first 20 bytes; the extended one covers all 36 and
        // therefore includes the first checksum, so it is computed second.
        FirmwareTableBytes.Checksum(rsdp[..RsdpChecksumLength], 8);
        FirmwareTableBytes.Checksum(rsdp[..RsdpLength], 32);
    }

    /// <summary>The RSDT: 32-bit pointers to the other tables, for ACPI 1.0 guests.</summary>
    public static void WriteRsdt(Span<byte> rsdt, ReadOnlySpan<ulong> tables)
    {
        WriteHeader(rsdt, "RSDT", RsdtRevision);
        for (int i = 0; i < tables.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(rsdt[(HeaderLength + (i * 4))..], (uint)tables[i]);
        FinishTable(rsdt);
    }

    /// <summary>The XSDT: the same list with 64-bit pointers, which ACPI 2.0+ guests prefer.</summary>
    public static void WriteXsdt(Span<byte> xsdt, ReadOnlySpan<ulong> tables)
    {
        WriteHeader(xsdt, "XSDT", XsdtRevision);
        for (int i = 0; i < tables.Length; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(xsdt[(HeaderLength + (i * 8))..], tables[i]);
        FinishTable(xsdt);
    }

    /// <summary>
    /// The Multiple APIC Description Table: one enabled local APIC per processor (UID = APIC ID =
    /// index), the I/O APIC with GSI base 0, the timer's IRQ 0 → GSI 2 override, and NMI on LINT1
    /// of every processor.
    /// </summary>
    public static void WriteMadt(Span<byte> madt, FirmwareTableLayout layout)
    {
        WriteHeader(madt, "APIC", MadtRevision);
        BinaryPrimitives.WriteUInt32LittleEndian(madt[36..], (uint)layout.LocalApicAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(madt[40..], MadtPcAtCompatible);

        int offset = MadtFixedLength;
        for (int i = 0; i < layout.ProcessorCount; i++)
        {
            var entry = madt.Slice(offset, MadtLocalApicLength);
            entry[0] = MadtTypeLocalApic;
            entry[1] = MadtLocalApicLength;
            entry[2] = (byte)i; // ACPI processor UID
            entry[3] = (byte)i; // APIC ID
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], MadtLocalApicEnabled);
            offset += MadtLocalApicLength;
        }

        var ioApic = madt.Slice(offset, MadtIoApicLength);
        ioApic[0] = MadtTypeIoApic;
        ioApic[1] = MadtIoApicLength;
        ioApic[2] = (byte)layout.IoApicId;
        BinaryPrimitives.WriteUInt32LittleEndian(ioApic[4..], (uint)layout.IoApicAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(ioApic[8..], 0); // global system interrupt base
        offset += MadtIoApicLength;

        var source = madt.Slice(offset, MadtSourceOverrideLength);
        source[0] = MadtTypeSourceOverride;
        source[1] = MadtSourceOverrideLength;
        source[2] = IsaBus;
        source[3] = TimerIrq;
        BinaryPrimitives.WriteUInt32LittleEndian(source[4..], TimerGsi);
        BinaryPrimitives.WriteUInt16LittleEndian(source[8..], 0); // polarity and trigger conform to ISA
        offset += MadtSourceOverrideLength;

        var nmi = madt.Slice(offset, MadtLocalApicNmiLength);
        nmi[0] = MadtTypeLocalApicNmi;
        nmi[1] = MadtLocalApicNmiLength;
        nmi[2] = AllProcessors;
        BinaryPrimitives.WriteUInt16LittleEndian(nmi[3..], 0);
        nmi[5] = NmiLint;

        FinishTable(madt);
    }

    /// <summary>
    /// The Fixed ACPI Description Table of a legacy PC without ACPI power-management hardware:
    /// SCI on IRQ 9, no SMI command port (ACPI is always on), no PM1, PM2, PM timer or GPE blocks,
    /// no FACS. Both DSDT pointers name the same table.
    /// </summary>
    public static void WriteFadt(Span<byte> fadt, ulong dsdtAddress)
    {
        WriteHeader(fadt, "FACP", FadtRevision);
        BinaryPrimitives.WriteUInt32LittleEndian(fadt[40..], (uint)dsdtAddress); // DSDT
        BinaryPrimitives.WriteUInt16LittleEndian(fadt[46..], SciInterrupt); // SCI_INT
        BinaryPrimitives.WriteUInt16LittleEndian(fadt[109..], BootArchLegacyDevices | BootArchVgaNotPresent | BootArchMsiNotSupported); // IAPC_BOOT_ARCH
        BinaryPrimitives.WriteUInt32LittleEndian(fadt[112..], FadtWbinvd | FadtProcC1 | FadtPowerButton | FadtSleepButton); // Flags
        fadt[131] = FadtMinorRevision;
        BinaryPrimitives.WriteUInt64LittleEndian(fadt[140..], dsdtAddress); // X_DSDT
        FinishTable(fadt);
    }

    /// <summary>The Differentiated System Description Table: a header and an empty AML body.</summary>
    public static void WriteDsdt(Span<byte> dsdt)
    {
        WriteHeader(dsdt, "DSDT", DsdtRevision);
        FinishTable(dsdt);
    }

    /// <summary>The common 36-byte header; the length is the span's, the checksum comes last.</summary>
    private static void WriteHeader(Span<byte> table, string signature, byte revision)
    {
        table.Clear();
        Encoding.ASCII.GetBytes(signature, table);
        BinaryPrimitives.WriteUInt32LittleEndian(table[4..], (uint)table.Length);
        table[8] = revision;
        FirmwareTableBytes.Ascii(table[10..], 6, OemId);
        FirmwareTableBytes.Ascii(table[16..], 8, OemTableId);
        BinaryPrimitives.WriteUInt32LittleEndian(table[24..], OemRevision);
        Encoding.ASCII.GetBytes(CreatorId, table[28..]);
        BinaryPrimitives.WriteUInt32LittleEndian(table[32..], CreatorRevision);
    }

    private static void FinishTable(Span<byte> table) => FirmwareTableBytes.Checksum(table, 9);
}
