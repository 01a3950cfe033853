using System.Buffers.Binary;
using System.Text;
using Actors.HwBackend.Storage;
using Xunit;

namespace Actors.HwBackend.Tests.Storage;

public sealed class ScsiDiskTests
{
    // 10 MiB and one block: the last LBA is odd, and not a power of two less one.
    private const int DiskBytes = (10 << 20) + 512;
    private const long Blocks = DiskBytes / 512;
    private const string Serial = "ACT-0001-disk0";

    private readonly MemoryBlockStore _store = new(DiskBytes);
    private readonly ScsiDisk _disk;

    public ScsiDiskTests() => _disk = new ScsiDisk(_store, Serial);

    /// <summary>Runs a data-in command with a buffer of <paramref name="bufferLength"/> and returns what it sent.</summary>
    private (ScsiResult Result, byte[] Data) In(byte[] cdb, int bufferLength)
    {
        var buffer = new byte[bufferLength];
        ScsiResult result = _disk.Execute(cdb, buffer, []);
        return (result, buffer[..result.Transferred]);
    }

    private ScsiResult Out(byte[] cdb, byte[] data) => _disk.Execute(cdb, [], data);

    private static byte[] Inquiry(bool evpd, byte page, ushort allocationLength) =>
        [0x12, (byte)(evpd ? 1 : 0), page, (byte)(allocationLength >> 8), (byte)allocationLength, 0];

    private static byte[] Cdb10(byte opcode, uint lba, ushort blocks, byte flags = 0)
    {
        var cdb = new byte[10];
        cdb[0] = opcode;
        cdb[1] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(cdb.AsSpan(2), lba);
        BinaryPrimitives.WriteUInt16BigEndian(cdb.AsSpan(7), blocks);
        return cdb;
    }

    private static byte[] Cdb16(byte opcode, ulong lba, uint blocks, byte flags = 0)
    {
        var cdb = new byte[16];
        cdb[0] = opcode;
        cdb[1] = flags;
        BinaryPrimitives.WriteUInt64BigEndian(cdb.AsSpan(2), lba);
        BinaryPrimitives.WriteUInt32BigEndian(cdb.AsSpan(10), blocks);
        return cdb;
    }

    private static byte[] ReadCapacity16(uint allocationLength)
    {
        var cdb = new byte[16];
        cdb[0] = 0x9E;
        cdb[1] = 0x10;
        BinaryPrimitives.WriteUInt32BigEndian(cdb.AsSpan(10), allocationLength);
        return cdb;
    }

    private static byte[] ModeSense6(byte pageByte, byte allocationLength, bool dbd = true, byte subpage = 0) =>
        [0x1A, (byte)(dbd ? 0x08 : 0), pageByte, subpage, allocationLength, 0];

    private static byte[] ModeSense10(byte pageByte, ushort allocationLength, bool dbd = true, bool longLba = false) =>
        [0x5A, (byte)((dbd ? 0x08 : 0) | (longLba ? 0x10 : 0)), pageByte, 0, 0, 0, 0, (byte)(allocationLength >> 8), (byte)allocationLength, 0];

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static void AssertGood(ScsiResult result, int transferred)
    {
        Assert.Equal(ScsiStatus.Good, result.Status);
        Assert.Equal(transferred, result.Transferred);
    }

    /// <summary>The status and the fixed-format sense bytes the guest receives.</summary>
    private static void AssertSense(ScsiResult result, byte key, byte asc, byte ascq)
    {
        Assert.Equal(ScsiStatus.CheckCondition, result.Status);
        Assert.Equal(0, result.Transferred);
        var sense = new byte[32];
        Assert.Equal(18, result.WriteSenseData(sense));
        Assert.Equal(0x70, sense[0]);
        Assert.Equal(key, sense[2]);
        Assert.Equal(10, sense[7]);
        Assert.Equal(asc, sense[12]);
        Assert.Equal(ascq, sense[13]);
    }

    private static void AssertInvalidField(ScsiResult result) => AssertSense(result, 0x05, 0x24, 0x00);

    [Fact]
    public void TestUnitReadyAndStartStopUnitAreGoodWithoutData()
    {
        AssertGood(In([0x00, 0, 0, 0, 0, 0], 0).Result, 0);
        AssertGood(In([0x1B, 0, 0, 0, 0x01, 0], 0).Result, 0); // START
        AssertGood(In([0x1B, 0, 0, 0, 0x00, 0], 0).Result, 0); // STOP
        Assert.Equal(0, new ScsiResult(ScsiStatus.Good, 0, default).WriteSenseData(new byte[18]));
    }

    [Fact]
    public void StandardInquiryDescribesAnSpc3DiskInItsFirst36Bytes()
    {
        var (result, data) = In(Inquiry(false, 0, 96), 96);
        AssertGood(result, 36);
        Assert.Equal(0x00, data[0]); // connected, direct access block device
        Assert.Equal(0x00, data[1]); // not removable
        Assert.Equal(0x05, data[2]); // SPC-3
        Assert.Equal(0x02, data[3] & 0x0F); // response data format 2
        Assert.Equal(31, data[4]); // additional length: 36 - 5
        Assert.Equal("Actors  ", Encoding.ASCII.GetString(data, 8, 8));
        Assert.Equal("Virtual Disk    ", Encoding.ASCII.GetString(data, 16, 16));
        Assert.Equal("1.0 ", Encoding.ASCII.GetString(data, 32, 4));
    }

    [Fact]
    public void InquiryStopsAtTheAllocationLengthOrTheBufferButKeepsTheFullAdditionalLength()
    {
        var (result, data) = In(Inquiry(false, 0, 5), 64);
        AssertGood(result, 5);
        Assert.Equal(31, data[4]);

        (result, data) = In(Inquiry(false, 0, 36), 20); // a buffer smaller than the allocation length
        AssertGood(result, 20);
        Assert.Equal("Actors  ", Encoding.ASCII.GetString(data, 8, 8));

        AssertGood(In(Inquiry(false, 0, 0), 64).Result, 0);
    }

    [Fact]
    public void InquiryRefusesCmdDtAndAPageCodeWithoutEvpd()
    {
        AssertInvalidField(In([0x12, 0x02, 0, 0, 36, 0], 36).Result);
        AssertInvalidField(In(Inquiry(false, 0x80, 36), 36).Result);
        AssertInvalidField(In([0x12, 0x03, 0x80, 0, 36, 0], 36).Result);
    }

    [Fact]
    public void TheSupportedPagesPageListsEveryPageInAscendingOrder()
    {
        var (result, data) = In(Inquiry(true, 0x00, 255), 255);
        AssertGood(result, 10);
        Assert.Equal([0x00, 0x00, 0x00, 0x06, 0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2], data);
        foreach (byte page in data[4..])
        {
            var (pageResult, pageData) = In(Inquiry(true, page, 255), 255);
            Assert.Equal(ScsiStatus.Good, pageResult.Status);
            Assert.Equal(0x00, pageData[0]);
            Assert.Equal(page, pageData[1]);
            Assert.Equal(pageData.Length - 4, BinaryPrimitives.ReadUInt16BigEndian(pageData.AsSpan(2)));
        }
    }

    [Fact]
    public void AVpdHeaderAloneGivesTheWholePagesLength()
    {
        // Linux's scsi_get_vpd_size asks for the 4-byte header first, then for the whole page.
        var (result, data) = In(Inquiry(true, 0x83, 4), 255);
        AssertGood(result, 4);
        Assert.Equal(0x83, data[1]);
        Assert.Equal(4 + 8 + Serial.Length + 4 + 8, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(2)));
    }

    [Fact]
    public void TheUnitSerialNumberPageCarriesTheSerial()
    {
        var (result, data) = In(Inquiry(true, 0x80, 255), 255);
        AssertGood(result, 4 + Serial.Length);
        Assert.Equal(Serial.Length, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(2)));
        Assert.Equal(Serial, Encoding.ASCII.GetString(data, 4, Serial.Length));
    }

    [Fact]
    public void DeviceIdentificationHasAT10VendorIdAndAnNaaDesignatorFromTheSerial()
    {
        var (result, data) = In(Inquiry(true, 0x83, 255), 255);
        Assert.Equal(ScsiStatus.Good, result.Status);
        Span<byte> t10 = data.AsSpan(4);
        Assert.Equal(0x02, t10[0]); // ASCII
        Assert.Equal(0x01, t10[1]); // logical unit, T10 vendor ID
        Assert.Equal(8 + Serial.Length, t10[3]);
        Assert.Equal("Actors  " + Serial, Encoding.ASCII.GetString(t10.Slice(4, t10[3])));

        Span<byte> naa = t10[(4 + t10[3])..];
        Assert.Equal(0x01, naa[0]); // binary
        Assert.Equal(0x03, naa[1]); // logical unit, NAA
        Assert.Equal(8, naa[3]);
        Assert.Equal(0x3, naa[4] >> 4); // locally assigned
        Assert.Equal(data.Length, 4 + 4 + t10[3] + 4 + 8);

        // The same serial gives the same NAA on any host; another serial another.
        byte[] Naa(string serial)
        {
            var page = new byte[255];
            new ScsiDisk(new MemoryBlockStore(512), serial).Execute(Inquiry(true, 0x83, 255), page, []);
            return page[(4 + 4 + 8 + serial.Length + 4)..][..8];
        }
        Assert.Equal(naa.Slice(4, 8).ToArray(), Naa(Serial));
        Assert.NotEqual(Naa(Serial), Naa("ACT-0001-disk1"));
    }

    [Fact]
    public void BlockLimitsGiveTheMaximumTransferAndNoUnmap()
    {
        var (result, data) = In(Inquiry(true, 0xB0, 64), 64);
        AssertGood(result, 64);
        Assert.Equal(0x3C, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(2)));
        Assert.Equal(8, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(6))); // 4 KiB optimal granularity
        Assert.Equal((uint)ScsiDisk.MaxTransferBlocks, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(8)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(20))); // maximum UNMAP LBA count
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(24))); // maximum UNMAP block descriptor count
    }

    [Fact]
    public void BlockDeviceCharacteristicsSayNonRotating()
    {
        var (result, data) = In(Inquiry(true, 0xB1, 64), 64);
        AssertGood(result, 64);
        Assert.Equal(0x3C, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(2)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(4)));
        Assert.Equal(0, data[8]); // not zoned
    }

    [Fact]
    public void LogicalBlockProvisioningIsAllZeroAfterItsHeader()
    {
        var (result, data) = In(Inquiry(true, 0xB2, 64), 64);
        AssertGood(result, 8);
        Assert.Equal([0x00, 0xB2, 0x00, 0x04, 0, 0, 0, 0], data);
    }

    [Theory]
    [InlineData(0x01)]
    [InlineData(0x86)]
    [InlineData(0x89)]
    [InlineData(0xB9)]
    [InlineData(0xFF)]
    public void AnUnsupportedVpdPageIsAnInvalidField(byte page) => AssertInvalidField(In(Inquiry(true, page, 255), 255).Result);

    [Fact]
    public void ReadCapacity10GivesTheLastLbaAndBlockSize()
    {
        var (result, data) = In([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
        AssertGood(result, 8);
        Assert.Equal((uint)(Blocks - 1), BinaryPrimitives.ReadUInt32BigEndian(data));
        Assert.Equal(20480u, BinaryPrimitives.ReadUInt32BigEndian(data));
        Assert.Equal(512u, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4)));

        AssertInvalidField(In([0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0], 8).Result); // an LBA without PMI
        AssertGood(In([0x25, 0, 0, 0, 0, 1, 0, 0, 1, 0], 8).Result, 8); // with PMI
    }

    [Fact]
    public void ReadCapacity16GivesTheLastLbaBlockSizeAndZeros()
    {
        var (result, data) = In(ReadCapacity16(32), 32);
        AssertGood(result, 32);
        Assert.Equal((ulong)(Blocks - 1), BinaryPrimitives.ReadUInt64BigEndian(data));
        Assert.Equal(512u, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(8)));
        Assert.All(data[12..], b => Assert.Equal(0, b)); // no protection, no LBPME, exponent 0

        (result, data) = In(ReadCapacity16(12), 32);
        AssertGood(result, 12);
        Assert.Equal(512u, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(8)));

        byte[] otherAction = ReadCapacity16(32);
        otherAction[1] = 0x12; // GET LBA STATUS
        AssertInvalidField(In(otherAction, 32).Result);
    }

    [Fact]
    public void ADiskOf2TiBOrMoreSendsLinuxToReadCapacity16()
    {
        const long bytes = 3L << 40;
        var disk = new ScsiDisk(new UnbackedBlockStore(bytes), Serial);
        var data = new byte[32];
        AssertGood(disk.Execute([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], data, []), 8);
        Assert.Equal(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32BigEndian(data));
        AssertGood(disk.Execute(ReadCapacity16(32), data, []), 32);
        Assert.Equal((ulong)(bytes / 512) - 1, BinaryPrimitives.ReadUInt64BigEndian(data));
    }

    [Fact]
    public void WhatWrite10WroteRead16ReadsBack()
    {
        byte[] written = Pattern(8 * 512, 1);
        AssertGood(Out(Cdb10(0x2A, 1000, 8), written), 8 * 512);
        Assert.Equal(written, _store.Bytes.Slice(1000 * 512, 8 * 512).ToArray());

        var (result, data) = In(Cdb16(0x88, 1000, 8), 8 * 512);
        AssertGood(result, 8 * 512);
        Assert.Equal(written, data);

        (result, data) = In(Cdb16(0x88, 1002, 2), 4096); // a larger buffer is filled only as far as the blocks
        AssertGood(result, 1024);
        Assert.Equal(written[1024..2048], data);
    }

    [Fact]
    public void SixByteReadsAndWritesTakeA21BitLbaAndZeroMeans256Blocks()
    {
        byte[] written = Pattern(256 * 512, 2);
        AssertGood(Out([0x0A, 0x00, 0x10, 0x00, 0x00, 0], written), 256 * 512); // LBA 0x1000, 256 blocks
        Assert.Equal(written, _store.Bytes.Slice(0x1000 * 512, 256 * 512).ToArray());

        var (result, data) = In([0x08, 0x00, 0x10, 0x01, 0x01, 0], 512);
        AssertGood(result, 512);
        Assert.Equal(written[512..1024], data);

        // The top three bits of byte 1 are not part of the LBA.
        AssertGood(In([0x08, 0xE0, 0x00, 0x00, 0x01, 0], 512).Result, 512);
    }

    [Fact]
    public void TheLastBlockCanBeReadAndWritten()
    {
        byte[] written = Pattern(512, 3);
        AssertGood(Out(Cdb16(0x8A, (ulong)Blocks - 1, 1), written), 512);
        Assert.Equal(written, In(Cdb10(0x28, (uint)Blocks - 1, 1), 512).Data);
    }

    [Fact]
    public void ZeroBlocksIsAnEmptyTransferNotAnError()
    {
        AssertGood(In(Cdb10(0x28, 5, 0), 0).Result, 0);
        AssertGood(Out(Cdb16(0x8A, (ulong)Blocks, 0), []), 0);
    }

    [Fact]
    public void AnLbaPastTheEndOrARangeCrossingItIsOutOfRange()
    {
        AssertSense(In(Cdb10(0x28, (uint)Blocks, 1), 512).Result, 0x05, 0x21, 0x00);
        AssertSense(In(Cdb16(0x88, (ulong)Blocks - 1, 2), 1024).Result, 0x05, 0x21, 0x00);
        AssertSense(Out(Cdb10(0x2A, (uint)Blocks - 3, 4), new byte[2048]), 0x05, 0x21, 0x00);
        AssertSense(In(Cdb16(0x88, ulong.MaxValue, 1), 512).Result, 0x05, 0x21, 0x00); // LBA + blocks overflows
        AssertSense(In(Cdb16(0x88, (ulong)Blocks + 1, 0), 0).Result, 0x05, 0x21, 0x00);

        var small = new ScsiDisk(new MemoryBlockStore(64 * 512), Serial); // below READ(6)'s 21 bits
        Assert.Equal(ScsiStatus.CheckCondition, small.Execute([0x08, 0, 0, 0x3F, 2, 0], new byte[1024], []).Status);
        Assert.Equal(ScsiStatus.CheckCondition, small.Execute([0x0A, 0, 0, 0x40, 1, 0], [], new byte[512]).Status);
    }

    [Fact]
    public void ABufferSmallerThanTheBlocksIsRefusedAndLeftAlone()
    {
        var buffer = new byte[1023];
        Array.Fill(buffer, (byte)0xA5);
        AssertInvalidField(_disk.Execute(Cdb10(0x28, 0, 2), buffer, []));
        Assert.All(buffer, b => Assert.Equal(0xA5, b));

        _store.Bytes[..1024].Fill(0x5A);
        AssertInvalidField(Out(Cdb10(0x2A, 0, 2), new byte[1023]));
        AssertInvalidField(Out([0x0A, 0, 0, 0, 0, 0], new byte[255 * 512])); // 0 is 256 blocks
        Assert.All(_store.Bytes[..1024].ToArray(), b => Assert.Equal(0x5A, b));

        // A write sent with the read direction has no data out at all.
        AssertInvalidField(_disk.Execute(Cdb10(0x2A, 0, 1), new byte[512], []));
    }

    [Fact]
    public void MoreThanTheMaximumTransferLengthOrAProtectionFieldIsAnInvalidField()
    {
        AssertInvalidField(In(Cdb16(0x88, 0, ScsiDisk.MaxTransferBlocks + 1), (ScsiDisk.MaxTransferBlocks + 1) * 512).Result);
        AssertGood(In(Cdb16(0x88, 0, ScsiDisk.MaxTransferBlocks), ScsiDisk.MaxTransferBlocks * 512).Result, ScsiDisk.MaxTransferBlocks * 512);
        AssertInvalidField(In(Cdb10(0x28, 0, 1, flags: 0x20), 512).Result); // RDPROTECT 1
        AssertInvalidField(Out(Cdb16(0x8A, 0, 1, flags: 0x20), new byte[512])); // WRPROTECT 1
    }

    [Fact]
    public void FuaFlushesTheWriteAndAPlainWriteDoesNot()
    {
        AssertGood(Out(Cdb10(0x2A, 0, 1), new byte[512]), 512);
        Assert.Equal(0, _store.Flushes);
        AssertGood(Out(Cdb10(0x2A, 0, 1, flags: 0x08), new byte[512]), 512);
        Assert.Equal(1, _store.Flushes);
        AssertGood(Out(Cdb16(0x8A, 0, 1, flags: 0x08), new byte[512]), 512);
        Assert.Equal(2, _store.Flushes);
        AssertGood(In(Cdb10(0x28, 0, 1, flags: 0x08), 512).Result, 512); // FUA on a read needs no flush
        Assert.Equal(2, _store.Flushes);
    }

    [Fact]
    public void SynchronizeCacheFlushesTheStore()
    {
        AssertGood(In(Cdb10(0x35, 0, 0), 0).Result, 0);
        Assert.Equal(1, _store.Flushes);
        AssertGood(In(Cdb16(0x91, 100, 8), 0).Result, 0);
        Assert.Equal(2, _store.Flushes);
        AssertSense(In(Cdb10(0x35, (uint)Blocks + 1, 0), 0).Result, 0x05, 0x21, 0x00);
        Assert.Equal(2, _store.Flushes);
    }

    [Fact]
    public void AStoreThatFailsIsAMediumError()
    {
        var disk = new ScsiDisk(new UnbackedBlockStore(DiskBytes), Serial);
        AssertSense(disk.Execute(Cdb10(0x28, 0, 1), new byte[512], []), 0x03, 0x11, 0x00);
        AssertSense(disk.Execute(Cdb10(0x2A, 0, 1), [], new byte[512]), 0x03, 0x0C, 0x00);
        AssertSense(disk.Execute(Cdb10(0x35, 0, 0), [], []), 0x03, 0x0C, 0x00);
    }

    [Fact]
    public void ModeSense6OfTheCachingPageSaysWriteBackAndDpoFua()
    {
        var (result, data) = In(ModeSense6(0x08, 255), 255);
        AssertGood(result, 4 + 20);
        Assert.Equal(23, data[0]); // mode data length, not counting itself
        Assert.Equal(0, data[1]); // medium type
        Assert.Equal(0x10, data[2]); // DPOFUA, not write protected
        Assert.Equal(0, data[3]); // DBD: no block descriptor
        Assert.Equal(0x08, data[4]);
        Assert.Equal(0x12, data[5]);
        Assert.Equal(0x04, data[6]); // WCE, RCD clear
        Assert.All(data[7..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void ModeSenseGivesABlockDescriptorUnlessDbd()
    {
        var (result, data) = In(ModeSense6(0x0A, 255, dbd: false), 255);
        AssertGood(result, 4 + 8 + 12);
        Assert.Equal(8, data[3]);
        Assert.Equal((uint)Blocks, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4)));
        Assert.Equal(512u, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(8)));
        Assert.Equal(0x0A, data[12]);
        Assert.Equal(0x0A, data[13]);

        (result, data) = In(ModeSense10(0x0A, 255, dbd: false, longLba: true), 255);
        AssertGood(result, 8 + 16 + 12);
        Assert.Equal(0x01, data[4]); // LONGLBA
        Assert.Equal(16, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(6)));
        Assert.Equal((ulong)Blocks, BinaryPrimitives.ReadUInt64BigEndian(data.AsSpan(8)));
        Assert.Equal(512u, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(20)));
        Assert.Equal(0x0A, data[24]);
    }

    [Fact]
    public void ModeSense10OfAllPagesGivesCachingThenControl()
    {
        var (result, data) = In(ModeSense10(0x3F, 1024), 1024);
        AssertGood(result, 8 + 20 + 12);
        Assert.Equal(38, BinaryPrimitives.ReadUInt16BigEndian(data)); // not counting its own two bytes
        Assert.Equal(0x10, data[3]);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(6)));
        Assert.Equal(0x08, data[8]);
        Assert.Equal(0x04, data[10]);
        Assert.Equal(0x0A, data[28]);
        Assert.Equal(0x0A, data[29]);
        Assert.Equal(0x00, data[30] & 0x04); // D_SENSE clear: fixed-format sense

        AssertGood(In([0x1A, 0x08, 0x3F, 0xFF, 255, 0], 255).Result, 4 + 20 + 12); // all pages and subpages
    }

    [Fact]
    public void ModeSenseHonoursTheAllocationLengthAsLinuxCautiousFirstAskDoes()
    {
        var (result, data) = In(ModeSense6(0x08, 4), 255);
        AssertGood(result, 4);
        Assert.Equal(23, data[0]);

        (result, data) = In(ModeSense10(0x3F, 8), 255);
        AssertGood(result, 8);
        Assert.Equal(38, BinaryPrimitives.ReadUInt16BigEndian(data));
    }

    [Fact]
    public void ChangeableValuesAreZeroAndSavedValuesAreRefused()
    {
        var (result, data) = In(ModeSense6(0x40 | 0x3F, 255), 255);
        AssertGood(result, 4 + 20 + 12);
        Assert.Equal(0x08, data[4]);
        Assert.Equal(0x12, data[5]);
        Assert.All(data[6..24], b => Assert.Equal(0, b));
        Assert.Equal(0x0A, data[24]);
        Assert.All(data[26..], b => Assert.Equal(0, b));

        AssertGood(In(ModeSense6(0x80 | 0x08, 255), 255).Result, 24); // defaults
        AssertSense(In(ModeSense6(0xC0 | 0x08, 255), 255).Result, 0x05, 0x39, 0x00);
    }

    [Fact]
    public void AnUnsupportedModePageOrSubpageIsAnInvalidField()
    {
        AssertInvalidField(In(ModeSense6(0x1C, 255), 255).Result);
        AssertInvalidField(In(ModeSense6(0x00, 255), 255).Result);
        AssertInvalidField(In(ModeSense10(0x01, 255), 255).Result);
        AssertInvalidField(In(ModeSense6(0x08, 255, subpage: 0x01), 255).Result);
    }

    [Fact]
    public void RequestSenseSaysNoSenseInEitherFormat()
    {
        var (result, data) = In([0x03, 0, 0, 0, 252, 0], 252);
        AssertGood(result, 18);
        Assert.Equal(0x70, data[0]);
        Assert.Equal(0, data[2]);
        Assert.Equal(10, data[7]);
        Assert.Equal(0, data[12]);
        Assert.Equal(0, data[13]);

        (result, data) = In([0x03, 0x01, 0, 0, 252, 0], 252);
        AssertGood(result, 8);
        Assert.Equal([0x72, 0, 0, 0, 0, 0, 0, 0], data);

        AssertGood(In([0x03, 0, 0, 0, 8, 0], 252).Result, 8);
    }

    [Fact]
    public void ReportLunsListsLunZeroAlone()
    {
        byte[] cdb = [0xA0, 0, 0x00, 0, 0, 0, 0, 0, 0x10, 0x00, 0, 0];
        var (result, data) = In(cdb, 4096);
        AssertGood(result, 16);
        Assert.Equal([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], data);

        cdb[2] = 0x01; // well-known LUNs only: there are none
        (result, data) = In(cdb, 4096);
        AssertGood(result, 8);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(data));

        AssertInvalidField(In([0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0], 4096).Result);
        AssertInvalidField(In([0xA0, 0, 0x10, 0, 0, 0, 0, 0, 0x10, 0, 0, 0], 4096).Result);
    }

    [Fact]
    public void VerifyChecksTheRangeAndRefusesByteCompare()
    {
        AssertGood(In(Cdb10(0x2F, 0, 16), 0).Result, 0);
        AssertSense(In(Cdb10(0x2F, (uint)Blocks - 1, 2), 0).Result, 0x05, 0x21, 0x00);
        AssertInvalidField(Out(Cdb10(0x2F, 0, 1, flags: 0x02), new byte[512]));
    }

    [Fact]
    public void AnUnknownOpcodeIsReportedAndRemembered()
    {
        AssertSense(In([0xA3, 0x0C, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0], 4096).Result, 0x05, 0x20, 0x00); // REPORT SUPPORTED OPERATION CODES
        AssertSense(In([0x85], 512).Result, 0x05, 0x20, 0x00); // ATA PASS-THROUGH(16), and too short too
        AssertSense(In([0x15, 0x10, 0, 0, 24, 0], 0).Result, 0x05, 0x20, 0x00); // MODE SELECT(6)
        AssertSense(In([0xA3, 0x0C, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0], 4096).Result, 0x05, 0x20, 0x00);
        Assert.Equal(new byte[] { 0x15, 0x85, 0xA3 }, _disk.UnknownOpcodes.Order().ToArray());
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x00, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0x12, 0, 0, 0, 36 })]
    [InlineData(new byte[] { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 })]
    [InlineData(new byte[] { 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 })]
    [InlineData(new byte[] { 0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0 })]
    [InlineData(new byte[] { 0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0 })]
    public void ACdbShorterThanItsOpcodeIsAnInvalidField(byte[] cdb)
    {
        AssertInvalidField(In(cdb, 4096).Result);
        Assert.Empty(_disk.UnknownOpcodes);
    }

    [Fact]
    public void ACdbLongerThanItsOpcodeIsRunOnItsOwnBytes()
    {
        byte[] cdb = [.. Cdb10(0x28, 0, 1), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]; // storvsc pads CDBs to 16
        AssertGood(In(cdb, 512).Result, 512);
    }

    [Fact]
    public void SenseDataFitsAShorterSenseBuffer()
    {
        ScsiResult result = In(Cdb10(0x28, (uint)Blocks, 1), 512).Result;
        var sense = new byte[14];
        Assert.Equal(14, result.WriteSenseData(sense));
        Assert.Equal(0x21, sense[12]);
        Assert.Equal(0x00, sense[13]);
    }

    [Fact]
    public void TheDiskRefusesABadSerialOrAStoreOfPartBlocks()
    {
        Assert.Throws<ArgumentException>(() => new ScsiDisk(_store, ""));
        Assert.Throws<ArgumentException>(() => new ScsiDisk(_store, "tab\there"));
        Assert.Throws<ArgumentException>(() => new ScsiDisk(_store, "é"));
        Assert.Throws<ArgumentException>(() => new ScsiDisk(_store, new string('x', ScsiDisk.MaxSerialLength + 1)));
        Assert.Throws<ArgumentException>(() => new ScsiDisk(new UnbackedBlockStore(1000), Serial));
        Assert.Throws<ArgumentException>(() => new ScsiDisk(new UnbackedBlockStore(0), Serial));
    }

    /// <summary>
    /// What Linux's scan and sd_revalidate_disk send when stock Linux attaches the disk, in order,
    /// with the allocation lengths they use; every step must succeed for the disk to come up as
    /// a write-back, FUA-capable, non-rotational disk of the right size.
    /// </summary>
    [Fact]
    public void LinuxAttachSequenceSucceeds()
    {
        AssertGood(In(Inquiry(false, 0, 36), 36).Result, 36);
        AssertGood(In([0xA0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x00, 0, 0], 1024).Result, 16);
        AssertGood(In([0x00, 0, 0, 0, 0, 0], 0).Result, 0);
        AssertGood(In(Inquiry(true, 0x00, 4), 4).Result, 4);
        AssertGood(In(Inquiry(true, 0x00, 10), 255).Result, 10);
        var (result, capacity) = In(ReadCapacity16(32), 32);
        AssertGood(result, 32);
        Assert.Equal((ulong)Blocks - 1, BinaryPrimitives.ReadUInt64BigEndian(capacity));
        var (header, _) = In(ModeSense6(0x3F, 4, dbd: false), 4);
        AssertGood(header, 4);
        AssertGood(In(ModeSense6(0x08, 4, dbd: false), 4).Result, 4);
        var (caching, page) = In(ModeSense6(0x08, 32, dbd: false), 32);
        AssertGood(caching, 32);
        Assert.Equal(0x10, page[2] & 0x10); // DPOFUA
        Assert.Equal(0x04, page[4 + page[3] + 2] & 0x04); // WCE, after the block descriptor
        foreach (byte vpd in new byte[] { 0xB0, 0xB1 })
            AssertGood(In(Inquiry(true, vpd, 64), 64).Result, 64);
        AssertGood(In(Inquiry(true, 0x80, 4), 4).Result, 4);
        AssertGood(In(Inquiry(true, 0x83, 255), 255).Result, 4 + 4 + 8 + Serial.Length + 4 + 8);
    }

    /// <summary>
    /// A seeded run of random and mutated CDBs with random buffers in either direction: the disk
    /// never throws, answers GOOD or CHECK CONDITION, never claims more than the buffer, never
    /// writes outside the buffer, and never reaches past the store (which would throw).
    /// </summary>
    [Fact]
    public void RandomAndMutatedCdbsNeverThrowNorReachOutsideBufferOrStore()
    {
        const int DiskBlocks = 129, MaxBuffer = 140 * 512, Guard = 64;
        var store = new MemoryBlockStore(DiskBlocks * 512);
        var disk = new ScsiDisk(store, "FUZZ");
        var random = new Random(0x5C51);
        byte[] known = [0x00, 0x03, 0x08, 0x0A, 0x12, 0x1A, 0x1B, 0x25, 0x28, 0x2A, 0x2F, 0x35, 0x5A, 0x88, 0x8A, 0x91, 0x9E, 0xA0];
        var buffer = new byte[Guard + MaxBuffer + Guard];
        var cdb = new byte[16];
        int good = 0;
        long transferredBytes = 0;
        for (int i = 0; i < 100_000; i++)
        {
            int cdbLength = random.Next(0, 17);
            random.NextBytes(cdb);
            if (random.Next(5) != 0)
            {
                cdb[0] = known[random.Next(known.Length)];
                if (random.Next(2) == 0)
                    cdb[1] &= 0x1F; // no protection fields, so the transfer goes on to be checked
                if (random.Next(2) == 0)
                {
                    // An LBA and length near the disk, in the 10- or 16-byte places.
                    uint lba = (uint)random.Next(0, DiskBlocks + 8), blocks = (uint)random.Next(0, 140);
                    if (cdb[0] >= 0x80)
                    {
                        BinaryPrimitives.WriteUInt64BigEndian(cdb.AsSpan(2), lba);
                        BinaryPrimitives.WriteUInt32BigEndian(cdb.AsSpan(10), blocks);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(cdb.AsSpan(2), lba);
                        BinaryPrimitives.WriteUInt16BigEndian(cdb.AsSpan(7), (ushort)blocks);
                    }
                }
                if (random.Next(3) == 0)
                    cdb[2] = (byte)random.Next(0, 4); // a plausible page / LUN select value
                for (int flips = random.Next(0, 3); flips > 0; flips--)
                    cdb[random.Next(16)] ^= (byte)(1 << random.Next(8));
                cdbLength = random.Next(2) == 0 ? 16 : cdbLength;
            }
            int length = random.Next(3) switch
            {
                0 => random.Next(0, 65),
                1 => random.Next(0, 4097),
                _ => random.Next(0, MaxBuffer + 1),
            };
            bool dataIn = random.Next(2) == 0;
            buffer.AsSpan(0, Guard).Fill(0xA5);
            buffer.AsSpan(Guard + length, Guard).Fill(0xA5);
            Span<byte> data = buffer.AsSpan(Guard, length);

            ScsiResult result = dataIn
                ? disk.Execute(cdb.AsSpan(0, cdbLength), data, [])
                : disk.Execute(cdb.AsSpan(0, cdbLength), [], data);

            Assert.True(result.Status is ScsiStatus.Good or ScsiStatus.CheckCondition, $"status {result.Status}");
            Assert.InRange(result.Transferred, 0, length);
            if (result.Status == ScsiStatus.CheckCondition)
                Assert.Equal(SenseKey.IllegalRequest, result.Sense.Key);
            else
                good++;
            transferredBytes += result.Transferred;
            Assert.True(buffer.AsSpan(0, Guard).IndexOfAnyExcept((byte)0xA5) < 0, "wrote before the buffer");
            Assert.True(buffer.AsSpan(Guard + length, Guard).IndexOfAnyExcept((byte)0xA5) < 0, "wrote after the buffer");
        }
        // The mutations reached the commands behind the checks, not only the error paths.
        Assert.InRange(good, 10_000, 100_000);
        Assert.True(transferredBytes > 0);
    }
}
