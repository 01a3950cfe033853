using System.Buffers.Binary;
using System.Text;
using Actors.HwBackend.Emulation;

namespace Actors.HwBackend.Boot;

/// <summary>
/// The Intel MultiProcessor Specification 1.4 tables, for guests that predate ACPI or boot with
/// it disabled (Linux <c>acpi=off</c>, small test kernels): the floating pointer structure and the
/// base configuration table with processor, bus, I/O APIC and interrupt assignment entries
/// (chapter 4). The interrupt routing matches the MADT's, so both descriptions agree.
/// </summary>
internal static class MultiProcessorTables
{
    public const int FloatingPointerLength = 16;

    private const byte SpecRevision = 4; // version 1.4
    private const int HeaderLength = 44;
    private const int ProcessorEntryLength = 20;
    private const int EntryLength = 8;
    private const int IsaIrqCount = 16;
    private const int IoInterruptEntries = IsaIrqCount - 1; // IRQ 2 is the cascade and has no pin of its own
    private const int LocalInterruptEntries = 2;

    private const byte EntryProcessor = 0;
    private const byte EntryBus = 1;
    private const byte EntryIoApic = 2;
    private const byte EntryIoInterrupt = 3;
    private const byte EntryLocalInterrupt = 4;

    private const byte InterruptInt = 0;
    private const byte InterruptNmi = 1;
    private const byte InterruptExtInt = 3;

    private const byte ProcessorEnabled = 1 << 0;
    private const byte ProcessorBootstrap = 1 << 1;
    private const byte IoApicEnabled = 1 << 0;

    // 0x14 is an integrated (on-chip) xAPIC, as SeaBIOS reports for QEMU's CPUs; 0x20 is the
    // version QEMU's I/O APIC reports, which the I/O APIC model is to match.
    private const byte LocalApicVersion = 0x14;
    private const byte IoApicVersion = 0x20;

    private const byte IsaBusId = 0;
    private const byte AllLocalApics = 0xFF;
    private const byte TimerIrq = 0;
    private const byte TimerPin = 2;
    private const byte CascadeIrq = 2;

    public static int ConfigurationTableLength(int processors) =>
        HeaderLength + (processors * ProcessorEntryLength) + (EntryLength * (1 + 1 + IoInterruptEntries + LocalInterruptEntries));

    /// <summary>
    /// The floating pointer: one paragraph pointing at the configuration table. Feature byte 1 is
    /// 0 (a table is present, no default configuration); feature byte 2 leaves IMCRP clear, as
    /// there is no IMCR and the 8259s reach the BSP in virtual wire mode through LINT0.
    /// </summary>
    public static void WriteFloatingPointer(Span<byte> pointer, ulong configurationTable)
    {
        pointer = pointer[..FloatingPointerLength];
        pointer.Clear();
        Encoding.ASCII.GetBytes("_MP_", pointer);
        BinaryPrimitives.WriteUInt32LittleEndian(pointer[4..], (uint)configurationTable);
        pointer[8] = FloatingPointerLength / 16; // length in paragraphs
        pointer[9] = SpecRevision;
        FirmwareTableBytes.Checksum(pointer, 10);
    }

    /// <summary>
    /// The base configuration table, entries in ascending type as the specification requires:
    /// processors (0 is the BSP), the ISA bus, the I/O APIC, ISA IRQ 0-15 except the cascade
    /// (IRQ 0 on pin 2, the rest on their own pins), and LINT0 = ExtINT, LINT1 = NMI everywhere.
    /// </summary>
    public static void WriteConfigurationTable(Span<byte> table, FirmwareTableLayout layout)
    {
        table.Clear();
        byte ioApicId = (byte)layout.IoApicId;
        Encoding.ASCII.GetBytes("PCMP", table);
        BinaryPrimitives.WriteUInt16LittleEndian(table[4..], (ushort)table.Length);
        table[6] = SpecRevision;
        FirmwareTableBytes.Ascii(table[8..], 8, AcpiTables.OemId);
        FirmwareTableBytes.Ascii(table[16..], 12, AcpiTables.OemTableId);
        int entryCount = layout.ProcessorCount + 2 + IoInterruptEntries + LocalInterruptEntries;
        BinaryPrimitives.WriteUInt16LittleEndian(table[34..], (ushort)entryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(table[36..], (uint)layout.LocalApicAddress);

        // Signature and features are CPUID leaf 1's, so the table describes the CPU guests see.
        Cpuid.Query(1, 0, 0, localApic: true, out uint signature, out _, out _, out uint features);

        int offset = HeaderLength;
        for (int i = 0; i < layout.ProcessorCount; i++)
        {
            var entry = table.Slice(offset, ProcessorEntryLength);
            entry[0] = EntryProcessor;
            entry[1] = (byte)i;
            entry[2] = LocalApicVersion;
            entry[3] = (byte)(ProcessorEnabled | (i == 0 ? ProcessorBootstrap : 0));
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], signature);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], features);
            offset += ProcessorEntryLength;
        }

        var bus = table.Slice(offset, EntryLength);
        bus[0] = EntryBus;
        bus[1] = IsaBusId;
        FirmwareTableBytes.Ascii(bus[2..], 6, "ISA");
        offset += EntryLength;

        var ioApic = table.Slice(offset, EntryLength);
        ioApic[0] = EntryIoApic;
        ioApic[1] = ioApicId;
        ioApic[2] = IoApicVersion;
        ioApic[3] = IoApicEnabled;
        BinaryPrimitives.WriteUInt32LittleEndian(ioApic[4..], (uint)layout.IoApicAddress);
        offset += EntryLength;

        for (byte irq = 0; irq < IsaIrqCount; irq++)
        {
            if (irq == CascadeIrq)
                continue;
            byte pin = irq == TimerIrq ? TimerPin : irq;
            WriteInterruptEntry(table.Slice(offset, EntryLength), EntryIoInterrupt, InterruptInt, irq, ioApicId, pin);
            offset += EntryLength;
        }

        WriteInterruptEntry(table.Slice(offset, EntryLength), EntryLocalInterrupt, InterruptExtInt, 0, AllLocalApics, 0);
        offset += EntryLength;
        WriteInterruptEntry(table.Slice(offset, EntryLength), EntryLocalInterrupt, InterruptNmi, 0, AllLocalApics, 1);

        FirmwareTableBytes.Checksum(table, 7);
    }

    /// <summary>
    /// Types 3 and 4 share a layout: interrupt type, flags (0 = polarity and trigger conform to
    /// the bus, edge-high for ISA), source bus and IRQ, destination APIC and its input.
    /// </summary>
    private static void WriteInterruptEntry(Span<byte> entry, byte entryType, byte interruptType, byte sourceIrq, byte destinationApic, byte destinationInput)
    {
        entry[0] = entryType;
        entry[1] = interruptType;
        BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], 0);
        entry[4] = IsaBusId;
        entry[5] = sourceIrq;
        entry[6] = destinationApic;
        entry[7] = destinationInput;
    }
}
