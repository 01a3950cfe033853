using System.Buffers.Binary;
using System.Text;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Tests.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Boot;

/// <summary>
/// The firmware tables read back from guest memory the way a guest finds them: by scanning the
/// BIOS area for the RSDP and the MP floating pointer and following their pointers, checking
/// every checksum and length on the way rather than trusting <see cref="FirmwareTableInfo"/>.
/// </summary>
public sealed class FirmwareTablesTests
{
    private const ulong MiB = 1 << 20;
    private const ulong BiosAreaStart = 0xE0000;
    private const ulong BiosRomStart = 0xF0000;
    private const ulong BiosAreaEnd = 0x100000;
    private const uint LocalApicAddress = 0xFEE0_0000;
    private const uint IoApicAddress = 0xFEC0_0000;

    public static TheoryData<int> ProcessorCounts() => [1, 4, 64];

    [Theory]
    [MemberData(nameof(ProcessorCounts))]
    public void RsdpIsFoundByScanningAndLeadsToTheTables(int processors)
    {
        using var memory = new TestGuestMemory();
        memory.Poison();
        var info = FirmwareTables.Write(memory.Map, new FirmwareTableLayout(processors));

        ulong rsdpAddress = ScanForRsdp(memory.Map);
        var rsdp = memory.Read(rsdpAddress, 36);

        Assert.Equal(info.Rsdp, rsdpAddress);
        Assert.Equal(0UL, rsdpAddress % 16);
        Assert.Equal(2, rsdp[15]);
        Assert.Equal("ACTORS", Ascii(rsdp, 9, 6));
        Assert.Equal(36U, BinaryPrimitives.ReadUInt32LittleEndian(rsdp.AsSpan(20)));
        Assert.Equal(0, Sum(rsdp.AsSpan(0, 20)));
        Assert.Equal(0, Sum(rsdp));

        ulong rsdtAddress = BinaryPrimitives.ReadUInt32LittleEndian(rsdp.AsSpan(16));
        ulong xsdtAddress = BinaryPrimitives.ReadUInt64LittleEndian(rsdp.AsSpan(24));
        Assert.Equal(info.Rsdt, rsdtAddress);
        Assert.Equal(info.Xsdt, xsdtAddress);

        var rsdt = ReadTable(memory.Map, rsdtAddress, "RSDT");
        var xsdt = ReadTable(memory.Map, xsdtAddress, "XSDT");
        var fromRsdt = Pointers(rsdt, 4).Select(a => (Signature(memory.Map, a), a)).ToDictionary();
        var fromXsdt = Pointers(xsdt, 8).Select(a => (Signature(memory.Map, a), a)).ToDictionary();

        Assert.Equal(new Dictionary<string, ulong> { ["APIC"] = info.Madt, ["FACP"] = info.Fadt }, fromRsdt);
        Assert.Equal(fromRsdt, fromXsdt);
        ReadTable(memory.Map, info.Madt, "APIC");
        ReadTable(memory.Map, info.Fadt, "FACP");
    }

    [Theory]
    [MemberData(nameof(ProcessorCounts))]
    public void MadtListsEveryProcessorTheIoApicAndTheTimerOverride(int processors)
    {
        using var memory = new TestGuestMemory();
        memory.Poison();
        FirmwareTables.Write(memory.Map, new FirmwareTableLayout(processors));

        var madt = ReadTable(memory.Map, FindAcpiTable(memory.Map, "APIC"), "APIC");
        Assert.Equal(LocalApicAddress, BinaryPrimitives.ReadUInt32LittleEndian(madt.AsSpan(36)));
        Assert.Equal(1U, BinaryPrimitives.ReadUInt32LittleEndian(madt.AsSpan(40))); // PCAT_COMPAT

        var entries = Entries(madt, 44, e => e[1]);
        var localApics = entries.Where(e => e[0] == 0).ToList();
        Assert.Equal(processors, localApics.Count);
        for (int i = 0; i < processors; i++)
        {
            var e = localApics[i];
            Assert.Equal(8, e.Length);
            Assert.Equal(i, e[2]); // ACPI processor UID
            Assert.Equal(i, e[3]); // APIC ID
            Assert.Equal(1U, BinaryPrimitives.ReadUInt32LittleEndian(e.AsSpan(4))); // enabled
        }

        var ioApic = Assert.Single(entries, e => e[0] == 1);
        Assert.Equal(12, ioApic.Length);
        Assert.Equal(processors, ioApic[2]);
        Assert.Equal(IoApicAddress, BinaryPrimitives.ReadUInt32LittleEndian(ioApic.AsSpan(4)));
        Assert.Equal(0U, BinaryPrimitives.ReadUInt32LittleEndian(ioApic.AsSpan(8)));

        var overrides = entries.Where(e => e[0] == 2).ToList();
        Assert.Equal(new byte[] { 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 }, overrides[0]); // ISA IRQ 0 → GSI 2, conforming
        Assert.Equal(new byte[] { 2, 10, 0, 9, 9, 0, 0, 0, 0x0D, 0 }, overrides[1]); // the SCI: level, active high
        Assert.Equal(2, overrides.Count);

        var nmi = Assert.Single(entries, e => e[0] == 4);
        Assert.Equal(new byte[] { 4, 6, 0xFF, 0, 0, 1 }, nmi); // all processors, LINT1

        Assert.Equal(processors + 4, entries.Count);
    }

    [Fact]
    public void FadtPointsAtTheFacsTheDsdtAndThePowerManagementHardware()
    {
        using var memory = new TestGuestMemory();
        memory.Poison();
        var info = FirmwareTables.Write(memory.Map, new FirmwareTableLayout(2));

        var fadt = ReadTable(memory.Map, FindAcpiTable(memory.Map, "FACP"), "FACP");
        Assert.Equal(6, fadt[8]);
        Assert.Equal(276, fadt.Length);
        ulong dsdtAddress = BinaryPrimitives.ReadUInt32LittleEndian(fadt.AsSpan(40));
        Assert.Equal(dsdtAddress, BinaryPrimitives.ReadUInt64LittleEndian(fadt.AsSpan(140))); // X_DSDT
        Assert.Equal(info.Dsdt, dsdtAddress);
        Assert.Equal(9, BinaryPrimitives.ReadUInt16LittleEndian(fadt.AsSpan(46))); // SCI_INT
        Assert.All(fadt[48..56], b => Assert.Equal(0, b)); // no SMI_CMD: always in ACPI mode
        Assert.Equal(0x600U, BinaryPrimitives.ReadUInt32LittleEndian(fadt.AsSpan(56))); // PM1a_EVT_BLK
        Assert.Equal(0x604U, BinaryPrimitives.ReadUInt32LittleEndian(fadt.AsSpan(64))); // PM1a_CNT_BLK
        Assert.Equal(0x608U, BinaryPrimitives.ReadUInt32LittleEndian(fadt.AsSpan(76))); // PM_TMR_BLK
        Assert.Equal(new byte[] { 4, 2, 0, 4 }, fadt[88..92]);
        Assert.Equal(new byte[] { 1, 32, 0, 3, 0x08, 0x06, 0, 0, 0, 0, 0, 0 }, fadt[208..220]); // X_PM_TMR_BLK
        Assert.Equal(new byte[] { 1, 8, 0, 1, 0xF9, 0x0C, 0, 0, 0, 0, 0, 0 }, fadt[116..128]); // RESET_REG: 0xCF9
        Assert.Equal(6, fadt[128]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(fadt.AsSpan(112));
        Assert.Equal(0U, flags & (1u << 8)); // TMR_VAL_EXT: a 24-bit PM timer
        Assert.Equal(1u << 10, flags & (1u << 10)); // RESET_REG_SUP
        Assert.Equal(0U, flags & (1u << 20)); // not HW_REDUCED_ACPI: a legacy PC with 8259s
        Assert.Equal(1U, flags & 1u); // WBINVD

        ulong facs = BinaryPrimitives.ReadUInt32LittleEndian(fadt.AsSpan(36));
        Assert.Equal(info.Facs, facs);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(fadt.AsSpan(132))); // X_FIRMWARE_CTRL: only one of the two
        Assert.Equal(0UL, facs % 64);
        Assert.Equal("FACS", Encoding.ASCII.GetString(memory.Read(facs, 4)));

        // The DSDT names \_S5 with SLP_TYP 0, which the PM1a control block takes as soft-off.
        var dsdt = ReadTable(memory.Map, dsdtAddress, "DSDT");
        Assert.Equal(new byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x06, 0x04, 0, 0, 0, 0 }, dsdt[36..]);
    }

    [Fact]
    public void AnEnlightenedPartitionsDsdtAddsTheVmBusDeviceAfterS5()
    {
        using var memory = new TestGuestMemory();
        var info = FirmwareTables.Write(memory.Map, new FirmwareTableLayout(2) { VmBus = true });

        // ReadTable checks the length and checksum. The device: Scope (\_SB) { Device (VMBS) { _HID "VMBus", _UID 0, _CRS IRQ 7 } }.
        var dsdt = ReadTable(memory.Map, info.Dsdt, "DSDT");
        Assert.Equal(36 + 12 + 46, dsdt.Length);
        Assert.Equal([0x10, 0x2D, (byte)'\\', (byte)'_', (byte)'S', (byte)'B', (byte)'_', 0x5B, 0x82, 0x25], dsdt[48..58]);
        Assert.Equal("VMBS", Encoding.ASCII.GetString(dsdt, 58, 4));
        Assert.Contains("_HID\u000dVMBus\0", Encoding.ASCII.GetString(dsdt));
        Assert.Equal([0x22, 0x80, 0x00, 0x79, 0x00], dsdt[^5..]);
    }

    [Theory]
    [MemberData(nameof(ProcessorCounts))]
    public void MpTableIsFoundByScanningAndDescribesTheSameMachine(int processors)
    {
        using var memory = new TestGuestMemory();
        memory.Poison();
        var info = FirmwareTables.Write(memory.Map, new FirmwareTableLayout(processors));

        ulong pointerAddress = ScanForMpFloatingPointer(memory.Map);
        var pointer = memory.Read(pointerAddress, 16);
        Assert.Equal(info.MpFloatingPointer, pointerAddress);
        Assert.Equal(1, pointer[8]);
        Assert.Equal(4, pointer[9]);
        Assert.Equal(0, pointer[11]); // a configuration table is present
        Assert.All(pointer[12..16], b => Assert.Equal(0, b));

        ulong tableAddress = BinaryPrimitives.ReadUInt32LittleEndian(pointer.AsSpan(4));
        Assert.Equal(info.MpConfigurationTable, tableAddress);
        Assert.Equal("PCMP", Ascii(memory.Read(tableAddress, 4), 0, 4));
        int length = BinaryPrimitives.ReadUInt16LittleEndian(memory.Read(tableAddress + 4, 2));
        var table = memory.Read(tableAddress, length);
        Assert.Equal(0, Sum(table));
        Assert.Equal(4, table[6]);
        Assert.Equal("ACTORS  ", Ascii(table, 8, 8));
        Assert.Equal("ACTORSVM    ", Ascii(table, 16, 12));
        Assert.Equal(LocalApicAddress, BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(36)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(table.AsSpan(40))); // no extended table

        var entries = Entries(table, 44, e => e[0] == 0 ? 20 : 8);
        Assert.Equal(BinaryPrimitives.ReadUInt16LittleEndian(table.AsSpan(34)), entries.Count);
        Assert.Equal(entries.Select(e => e[0]).Order(), entries.Select(e => e[0])); // ascending entry types

        var cpus = entries.Where(e => e[0] == 0).ToList();
        Assert.Equal(processors, cpus.Count);
        for (int i = 0; i < processors; i++)
        {
            Assert.Equal(i, cpus[i][1]);
            Assert.Equal(i == 0 ? 3 : 1, cpus[i][3]); // enabled, and CPU 0 is the bootstrap processor
            Assert.NotEqual(0U, BinaryPrimitives.ReadUInt32LittleEndian(cpus[i].AsSpan(4))); // signature
        }

        var bus = Assert.Single(entries, e => e[0] == 1);
        Assert.Equal(0, bus[1]);
        Assert.Equal("ISA   ", Ascii(bus, 2, 6));

        var ioApic = Assert.Single(entries, e => e[0] == 2);
        Assert.Equal(processors, ioApic[1]);
        Assert.Equal(0x20, ioApic[2]);
        Assert.Equal(1, ioApic[3]); // enabled
        Assert.Equal(IoApicAddress, BinaryPrimitives.ReadUInt32LittleEndian(ioApic.AsSpan(4)));

        var assignments = entries.Where(e => e[0] == 3).ToList();
        Assert.All(assignments, e =>
        {
            Assert.Equal(0, e[1]); // INT
            Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(e.AsSpan(2))); // conforms to ISA
            Assert.Equal(0, e[4]); // ISA bus
            Assert.Equal(processors, e[6]); // the I/O APIC
        });
        var pins = assignments.ToDictionary(e => (int)e[5], e => (int)e[7]);
        var expected = Enumerable.Range(0, 16).Where(irq => irq != 2).ToDictionary(irq => irq, irq => irq == 0 ? 2 : irq);
        Assert.Equal(expected, pins);

        var local = entries.Where(e => e[0] == 4).ToList();
        Assert.Equal(2, local.Count);
        Assert.Equal(new byte[] { 4, 3, 0, 0, 0, 0, 0xFF, 0 }, local[0]); // ExtINT on LINT0 of every local APIC
        Assert.Equal(new byte[] { 4, 1, 0, 0, 0, 0, 0xFF, 1 }, local[1]); // NMI on LINT1 of every local APIC
    }

    [Fact]
    public void TablesStayInTheBiosAreaAndHonourTheLayout()
    {
        using var memory = new TestGuestMemory();
        var layout = new FirmwareTableLayout(255) { IoApicId = 3, IoApicAddress = 0xFEC1_0000, LocalApicAddress = 0xFEE1_0000 };

        var info = FirmwareTables.Write(memory.Map, layout);

        ulong[] addresses = [info.Rsdp, info.Rsdt, info.Xsdt, info.Madt, info.Fadt, info.Dsdt, info.Facs, info.MpFloatingPointer, info.MpConfigurationTable];
        Assert.All(addresses, a => Assert.InRange(a, BiosAreaStart, BiosAreaEnd - 1));
        Assert.InRange(info.MpFloatingPointer, BiosRomStart, BiosAreaEnd - 1);
        Assert.Equal(addresses.Length, addresses.Distinct().Count());
        var madt = ReadTable(memory.Map, info.Madt, "APIC");
        Assert.True(info.Madt + (ulong)madt.Length <= BiosAreaEnd);
        Assert.Equal(0xFEE1_0000U, BinaryPrimitives.ReadUInt32LittleEndian(madt.AsSpan(36)));
        var ioApic = Assert.Single(Entries(madt, 44, e => e[1]), e => e[0] == 1);
        Assert.Equal(3, ioApic[2]);
        Assert.Equal(0xFEC1_0000U, BinaryPrimitives.ReadUInt32LittleEndian(ioApic.AsSpan(4)));
    }

    [Fact]
    public void MultibootMemoryMapDoesNotOfferTheTableArea()
    {
        using var memory = new TestGuestMemory(16 * MiB);
        var image = TestImages.Elf32(0x100000, [TestSegment.Code(0x100000, 0x100)], TestImages.MultibootHeader(0));
        var loaded = GuestImageLoader.Load(image, memory.Map);
        var info = FirmwareTables.Write(memory.Map, new FirmwareTableLayout(4));

        var map = GuestImageLoaderTests.ReadMemoryMap(memory.Map, loaded.BootInfoAddress);

        var ram = map.Where(e => e.Type == 1).Select(e => (e.Base, e.Length)).ToList();
        Assert.Equal([(0UL, 0x9FC00UL), (MiB, 15 * MiB)], ram);
        Assert.Contains((0x9FC00UL, MiB - 0x9FC00, 2U), map);
        Assert.DoesNotContain(map, e => e.Type == 1 && e.Base < BiosAreaEnd && 0xA0000 < e.Base + e.Length);
        Assert.DoesNotContain(map, e => e.Type == 1 && e.Base <= info.Rsdp && info.Rsdp < e.Base + e.Length);
        Assert.Equal(639U, memory.Map.ReadValue<uint>(loaded.BootInfoAddress + 4)); // mem_lower agrees
    }

    public static TheoryData<string, int, uint, ulong, ulong, string> BadLayouts() => new()
    {
        { "no processors", 0, 0, IoApicAddress, LocalApicAddress, "processor count 0" },
        { "negative processors", -1, 0, IoApicAddress, LocalApicAddress, "processor count -1" },
        { "more processors than APIC IDs", 256, 0, IoApicAddress, LocalApicAddress, "processor count 256" },
        { "I/O APIC ID too wide", 4, 256, IoApicAddress, LocalApicAddress, "I/O APIC ID 256" },
        { "I/O APIC above 4 GiB", 4, 4, 1UL << 32, LocalApicAddress, "I/O APIC address" },
        { "local APIC above 4 GiB", 4, 4, IoApicAddress, 1UL << 32, "local APIC address" },
    };

    [Theory]
    [MemberData(nameof(BadLayouts))]
    public void LayoutsTheTablesCannotExpressAreRefused(string what, int processors, uint ioApicId, ulong ioApicAddress, ulong localApicAddress, string expected)
    {
        var layout = new FirmwareTableLayout(processors) { IoApicId = ioApicId, IoApicAddress = ioApicAddress, LocalApicAddress = localApicAddress };
        using var memory = new TestGuestMemory();
        memory.Poison();

        var ex = Assert.Throws<ArgumentException>(() => FirmwareTables.Write(memory.Map, layout));

        Assert.True(ex.Message.Contains(expected, StringComparison.Ordinal), $"{what}: '{ex.Message}' should mention '{expected}'");
        Assert.DoesNotContain('\n', ex.Message);
        Assert.All(memory.Read(BiosAreaStart, (int)(BiosAreaEnd - BiosAreaStart)), b => Assert.Equal(0xCC, b));
    }

    [Fact]
    public void BiosAreaThatIsNotRamIsRefused()
    {
        using var ram = new GuestRam(8 * MiB);
        var map = new GuestPhysicalMap(ram);
        map.AddRam("low", 0, 0xA0000, 0);
        map.AddRam("high", MiB, 7 * MiB, 0xA0000);

        var ex = Assert.Throws<ArgumentException>(() => FirmwareTables.Write(map, new FirmwareTableLayout(1)));

        Assert.Contains("not RAM", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    private static ulong ScanForRsdp(GuestPhysicalMap map)
    {
        for (ulong address = BiosAreaStart; address < BiosAreaEnd; address += 16)
        {
            var candidate = new byte[20];
            map.Read(address, candidate);
            if (Ascii(candidate, 0, 8) == "RSD PTR " && Sum(candidate) == 0)
                return address;
        }
        Assert.Fail("no RSDP with a valid checksum in 0xE0000-0xFFFFF");
        return 0;
    }

    private static ulong ScanForMpFloatingPointer(GuestPhysicalMap map)
    {
        for (ulong address = BiosRomStart; address < BiosAreaEnd; address += 16)
        {
            var candidate = new byte[16];
            map.Read(address, candidate);
            if (Ascii(candidate, 0, 4) == "_MP_" && candidate[8] == 1 && Sum(candidate) == 0)
                return address;
        }
        Assert.Fail("no MP floating pointer with a valid checksum in 0xF0000-0xFFFFF");
        return 0;
    }

    /// <summary>Finds a table through the RSDP and XSDT, as an ACPI 2.0 guest does.</summary>
    private static ulong FindAcpiTable(GuestPhysicalMap map, string signature)
    {
        ulong xsdt = map.ReadValue<ulong>(ScanForRsdp(map) + 24);
        return Assert.Single(Pointers(ReadTable(map, xsdt, "XSDT"), 8), a => Signature(map, a) == signature);
    }

    /// <summary>Reads a whole system description table and checks its common header.</summary>
    private static byte[] ReadTable(GuestPhysicalMap map, ulong address, string signature)
    {
        Assert.Equal(signature, Signature(map, address));
        uint length = map.ReadValue<uint>(address + 4);
        Assert.InRange(length, 36U, 0x10000U);
        var table = new byte[length];
        map.Read(address, table);
        Assert.True(Sum(table) == 0, $"{signature} checksum");
        Assert.Equal("ACTORS", Ascii(table, 10, 6));
        Assert.Equal("ACTORSVM", Ascii(table, 16, 8));
        Assert.Equal("ACTR", Ascii(table, 28, 4));
        return table;
    }

    private static string Signature(GuestPhysicalMap map, ulong address)
    {
        var signature = new byte[4];
        map.Read(address, signature);
        return Ascii(signature, 0, 4);
    }

    private static List<ulong> Pointers(byte[] table, int width)
    {
        Assert.Equal(0, (table.Length - 36) % width);
        var pointers = new List<ulong>();
        for (int offset = 36; offset < table.Length; offset += width)
        {
            pointers.Add(width == 4
                ? BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(offset))
                : BinaryPrimitives.ReadUInt64LittleEndian(table.AsSpan(offset)));
        }
        return pointers;
    }

    /// <summary>Splits a table's variable part into entries; they must end exactly at the table's end.</summary>
    private static List<byte[]> Entries(byte[] table, int start, Func<byte[], int> lengthOf)
    {
        var entries = new List<byte[]>();
        int offset = start;
        while (offset < table.Length)
        {
            int length = lengthOf(table[offset..]);
            Assert.True(length > 0 && offset + length <= table.Length, $"entry at offset {offset} with length {length} overruns the table");
            entries.Add(table[offset..(offset + length)]);
            offset += length;
        }
        return entries;
    }

    private static string Ascii(byte[] bytes, int offset, int length) => Encoding.ASCII.GetString(bytes, offset, length);

    private static byte Sum(ReadOnlySpan<byte> bytes)
    {
        byte sum = 0;
        foreach (byte b in bytes)
            sum += b;
        return sum;
    }
}
