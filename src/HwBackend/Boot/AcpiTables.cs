using System.Buffers.Binary;
using System.Text;
using Actors.HwBackend.Devices.Acpi;

namespace Actors.HwBackend.Boot;

/// <summary>
/// The ACPI tables a PC guest needs to find its processors, interrupt controllers and power
/// management hardware (ACPI 6.x, chapter 5.2): the RSDP, an RSDT and an XSDT (old and new guests
/// follow different ones), the MADT, and a FADT with the FACS and the DSDT it must point to. Each writer fills a span of exactly the
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

    /// <summary>The DSDT's definition block: only <c>Name (\_S5, Package (4) { 0, 0, 0, 0 })</c>, the SLP_TYP values of soft-off.</summary>
    private static ReadOnlySpan<byte> DsdtBody =>
    [
        0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', // NameOp "_S5_"
        0x12, 0x06, 0x04, // PackageOp, PkgLength 6, NumElements 4
        AcpiPowerManagement.SoftOffSleepType, AcpiPowerManagement.SoftOffSleepType, 0x00, 0x00, // ZeroOp: SLP_TYPa, SLP_TYPb, reserved
    ];

    /// <summary>
    /// The VMBus device an enlightened partition adds (the device Hyper-V's firmware has, as QEMU
    /// writes it): <c>Scope (\_SB) { Device (VMBS) { Name (_HID, "VMBus") Name (_UID, 0)
    /// Name (_CRS, ResourceTemplate () { IRQNoFlags () { 7 } }) } }</c>. Linux's hv_vmbus binds to
    /// the _HID and refuses a device without _CRS; x86 guests do not use the interrupt (VMBus
    /// signals through the SynIC), but the resource must be there.
    /// </summary>
    private static ReadOnlySpan<byte> VmBusDevice =>
    [
        0x10, 0x2D, (byte)'\\', (byte)'_', (byte)'S', (byte)'B', (byte)'_', // ScopeOp, PkgLength 45, "\_SB_"
        0x5B, 0x82, 0x25, (byte)'V', (byte)'M', (byte)'B', (byte)'S', // DeviceOp, PkgLength 37, "VMBS"
        0x08, (byte)'_', (byte)'H', (byte)'I', (byte)'D', 0x0D, (byte)'V', (byte)'M', (byte)'B', (byte)'u', (byte)'s', 0x00, // Name (_HID, "VMBus")
        0x08, (byte)'_', (byte)'U', (byte)'I', (byte)'D', 0x00, // Name (_UID, Zero)
        0x08, (byte)'_', (byte)'C', (byte)'R', (byte)'S', 0x11, 0x08, 0x0A, 0x05, // Name (_CRS, Buffer (5) {
        0x22, 0x80, 0x00, // IRQ descriptor without flags, mask bit 7
        0x79, 0x00, // end tag })
    ];

    public static int DsdtLength(bool vmBus) => HeaderLength + DsdtBody.Length + (vmBus ? VmBusDevice.Length : 0);

    /// <summary>The Firmware ACPI Control Structure: required beside a FADT that is not hardware-reduced; 64-byte aligned.</summary>
    public const int FacsLength = 64;
    public const int FacsAlignment = 64;

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
    private const ushort IsaConforming = 0; // polarity and trigger as the bus defines them
    private const ushort ActiveHighLevel = 0b1101; // polarity 01 (high), trigger 11 (level)

    private const ushort SciInterrupt = 9;

    // IA-PC boot architecture flags (5.2.9.3): legacy ISA devices (COM1, PIT, RTC) are present,
    // there is no VGA and, with no PCI, no MSI. The 8042 flag stays clear: the controller has no
    // keyboard behind it, and a guest told there is one would probe it (and wait for it).
    private const ushort BootArchLegacyDevices = 1 << 0;
    private const ushort BootArchVgaNotPresent = 1 << 2;
    private const ushort BootArchMsiNotSupported = 1 << 3;

    // Fixed feature flags (5.2.9, table 5.10): WBINVD works, HLT gives C1 on every processor, the
    // power and sleep buttons are not fixed hardware (there are none), and the reset register is
    // 0xCF9. TMR_VAL_EXT stays clear: the PM timer is 24 bits wide, as on PIIX4.
    private const uint FadtWbinvd = 1u << 0;
    private const uint FadtProcC1 = 1u << 2;
    private const uint FadtPowerButton = 1u << 4;
    private const uint FadtSleepButton = 1u << 5;
    private const uint FadtResetRegisterSupported = 1u << 10;

    private const byte SystemIoSpace = 1;
    private const byte ByteAccess = 1, WordAccess = 2, DwordAccess = 3;
    private const byte ResetValue = 0x06; // CF9: reset the CPU, hard (system) reset
    private const byte FacsVersion = 2;

    public static int RsdtLength(int tables) => HeaderLength + (tables * 4);

    public static int XsdtLength(int tables) => HeaderLength + (tables * 8);

    public static int MadtLength(int processors) =>
        MadtFixedLength + (processors * MadtLocalApicLength) + MadtIoApicLength + (2 * MadtSourceOverrideLength) + MadtLocalApicNmiLength;

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

        WriteSourceOverride(madt.Slice(offset, MadtSourceOverrideLength), TimerIrq, TimerGsi, IsaConforming);
        offset += MadtSourceOverrideLength;
        // The SCI is level-triggered; without this the OS takes ACPI's default for it, active low,
        // and reads our idle (low) line as asserted forever.
        WriteSourceOverride(madt.Slice(offset, MadtSourceOverrideLength), (byte)SciInterrupt, SciInterrupt, ActiveHighLevel);
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
    /// <summary>
    /// The FADT: the FACS and DSDT, the SCI, the PM1a event and control blocks and the PM timer of
    /// <see cref="AcpiPowerManagement"/> (in 32-bit fields and as generic addresses), and the reset
    /// register. No SMI command port: the machine starts in ACPI mode.
    /// </summary>
    public static void WriteFadt(Span<byte> fadt, ulong facsAddress, ulong dsdtAddress)
    {
        WriteHeader(fadt, "FACP", FadtRevision);
        BinaryPrimitives.WriteUInt32LittleEndian(fadt[36..], (uint)facsAddress); // FIRMWARE_CTRL (X_FIRMWARE_CTRL stays 0: only one may be set)
        BinaryPrimitives.WriteUInt32LittleEndian(fadt[40..], (uint)dsdtAddress); // DSDT
        BinaryPrimitives.WriteUInt16LittleEndian(fadt[46..], SciInterrupt); // SCI_INT
        BinaryPrimitives.WriteUInt32LittleEndian(fadt[56..], AcpiPowerManagement.EventBlockPort); // PM1a_EVT_BLK
        BinaryPrimitives.WriteUInt32LittleEndian(fadt[64..], AcpiPowerManagement.ControlBlockPort); // PM1a_CNT_BLK
        BinaryPrimitives.WriteUInt32LittleEndian(fadt[76..], AcpiPowerManagement.TimerPort); // PM_TMR_BLK
        fadt[88] = AcpiPowerManagement.EventBlockLength; // PM1_EVT_LEN
        fadt[89] = AcpiPowerManagement.ControlBlockLength; // PM1_CNT_LEN
        fadt[91] = AcpiPowerManagement.TimerLength; // PM_TMR_LEN
        BinaryPrimitives.WriteUInt16LittleEndian(fadt[96..], 101); // P_LVL2_LAT > 100: no C2
        BinaryPrimitives.WriteUInt16LittleEndian(fadt[98..], 1001); // P_LVL3_LAT > 1000: no C3
        BinaryPrimitives.WriteUInt16LittleEndian(fadt[109..], BootArchLegacyDevices | BootArchVgaNotPresent | BootArchMsiNotSupported); // IAPC_BOOT_ARCH
        BinaryPrimitives.WriteUInt32LittleEndian(fadt[112..], FadtWbinvd | FadtProcC1 | FadtPowerButton | FadtSleepButton | FadtResetRegisterSupported); // Flags
        WriteIoAddress(fadt[116..], Devices.Legacy.ResetControl.ResetControlPort, 1, ByteAccess); // RESET_REG
        fadt[128] = ResetValue; // RESET_VALUE
        fadt[131] = FadtMinorRevision;
        BinaryPrimitives.WriteUInt64LittleEndian(fadt[140..], dsdtAddress); // X_DSDT
        WriteIoAddress(fadt[148..], AcpiPowerManagement.EventBlockPort, AcpiPowerManagement.EventBlockLength, WordAccess); // X_PM1a_EVT_BLK
        WriteIoAddress(fadt[172..], AcpiPowerManagement.ControlBlockPort, AcpiPowerManagement.ControlBlockLength, WordAccess); // X_PM1a_CNT_BLK
        WriteIoAddress(fadt[208..], AcpiPowerManagement.TimerPort, AcpiPowerManagement.TimerLength, DwordAccess); // X_PM_TMR_BLK
        FinishTable(fadt);
    }

    /// <summary>The FACS (5.2.10): no checksum; the hardware signature, waking vectors and global lock start at zero.</summary>
    public static void WriteFacs(Span<byte> facs)
    {
        facs[..FacsLength].Clear();
        Encoding.ASCII.GetBytes("FACS", facs);
        BinaryPrimitives.WriteUInt32LittleEndian(facs[4..], FacsLength);
        facs[32] = FacsVersion;
    }

    /// <summary>The Differentiated System Description Table: the header, the \_S5 object that lets the OS power off, and the VMBus device if asked.</summary>
    public static void WriteDsdt(Span<byte> dsdt, bool vmBus)
    {
        WriteHeader(dsdt, "DSDT", DsdtRevision);
        DsdtBody.CopyTo(dsdt[HeaderLength..]);
        if (vmBus)
            VmBusDevice.CopyTo(dsdt[(HeaderLength + DsdtBody.Length)..]);
        FinishTable(dsdt);
    }

    /// <summary>A Generic Address Structure (5.2.3.2) for a register block in I/O space.</summary>
    private static void WriteIoAddress(Span<byte> gas, ushort port, int lengthBytes, byte accessSize)
    {
        gas[0] = SystemIoSpace;
        gas[1] = (byte)(lengthBytes * 8);
        gas[2] = 0;
        gas[3] = accessSize;
        BinaryPrimitives.WriteUInt64LittleEndian(gas[4..], port);
    }

    private static void WriteSourceOverride(Span<byte> entry, byte irq, uint gsi, ushort flags)
    {
        entry[0] = MadtTypeSourceOverride;
        entry[1] = MadtSourceOverrideLength;
        entry[2] = IsaBus;
        entry[3] = irq;
        BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], gsi);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], flags);
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
