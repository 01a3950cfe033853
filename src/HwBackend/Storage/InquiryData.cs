using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Actors.HwBackend.Storage;

/// <summary>
/// A disk's INQUIRY answers, built once: the standard data and the vital product data pages
/// Linux reads when it attaches a disk. None depend on the disk's state, so requests only copy.
/// </summary>
internal sealed class InquiryData
{
    public const string Vendor = "Actors  ";
    public const string Product = "Virtual Disk    ";
    public const string Revision = "1.0 ";

    /// <summary>The VPD pages, in the ascending order page 0x00 must list them.</summary>
    private readonly SortedDictionary<byte, byte[]> _pages = [];

    public InquiryData(string serial, int maxTransferBlocks)
    {
        Standard = BuildStandard();
        _pages[0x80] = BuildUnitSerialNumber(serial);
        _pages[0x83] = BuildDeviceIdentification(serial);
        _pages[0xB0] = BuildBlockLimits(maxTransferBlocks);
        _pages[0xB1] = BuildBlockDeviceCharacteristics();
        _pages[0xB2] = BuildLogicalBlockProvisioning();
        _pages[0x00] = BuildSupportedPages([0x00, .. _pages.Keys]);
    }

    public byte[] Standard { get; }

    /// <summary>A VPD page by its code, or null for one this disk does not have.</summary>
    public byte[]? VpdPage(byte code) => _pages.GetValueOrDefault(code);

    /// <summary>
    /// The 36 bytes every SCSI-2 and later target returns. Linux's scan asks for 36 and asks again
    /// only if the additional length promises more, so nothing past 36 would be read anyway.
    /// </summary>
    private static byte[] BuildStandard()
    {
        var data = new byte[36];
        data[0] = 0x00; // peripheral qualifier 0 (connected), device type 0 (direct access block device)
        data[1] = 0x00; // not removable
        data[2] = 0x05; // SPC-3: Linux then tries READ CAPACITY(16) first and reads the VPD pages
        data[3] = 0x12; // HISUP (LUNs in the hierarchical format), response data format 2
        data[4] = (byte)(data.Length - 5);
        data[7] = 0x02; // CMDQUE: requests may be queued, and run concurrently
        Encoding.ASCII.GetBytes(Vendor, data.AsSpan(8, 8));
        Encoding.ASCII.GetBytes(Product, data.AsSpan(16, 16));
        Encoding.ASCII.GetBytes(Revision, data.AsSpan(32, 4));
        return data;
    }

    private static byte[] BuildSupportedPages(ReadOnlySpan<byte> codes)
    {
        byte[] page = Page(0x00, codes.Length);
        codes.CopyTo(page.AsSpan(4));
        return page;
    }

    private static byte[] BuildUnitSerialNumber(string serial)
    {
        byte[] page = Page(0x80, serial.Length);
        Encoding.ASCII.GetBytes(serial, page.AsSpan(4));
        return page;
    }

    /// <summary>
    /// Two designators of the logical unit: a T10 vendor ID (vendor then serial, readable), and an
    /// NAA locally assigned one (type 3) from a hash of the serial, which is what udev names
    /// <c>/dev/disk/by-id/wwn-0x…</c> after; a disk keeps both across hosts as long as its serial.
    /// </summary>
    private static byte[] BuildDeviceIdentification(string serial)
    {
        int t10Length = 8 + serial.Length;
        byte[] page = Page(0x83, 4 + t10Length + 4 + 8);
        Span<byte> t10 = page.AsSpan(4);
        t10[0] = 0x02; // code set ASCII
        t10[1] = 0x01; // associated with the logical unit, T10 vendor ID
        t10[3] = (byte)t10Length;
        Encoding.ASCII.GetBytes(Vendor, t10.Slice(4, 8));
        Encoding.ASCII.GetBytes(serial, t10[12..]);

        Span<byte> naa = page.AsSpan(4 + 4 + t10Length);
        naa[0] = 0x01; // code set binary
        naa[1] = 0x03; // associated with the logical unit, NAA
        naa[3] = 8;
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.ASCII.GetBytes(serial), hash);
        ulong id = (BinaryPrimitives.ReadUInt64BigEndian(hash) & 0x0FFF_FFFF_FFFF_FFFFUL) | (3UL << 60);
        BinaryPrimitives.WriteUInt64BigEndian(naa[4..], id);
        return page;
    }

    /// <summary>
    /// Block limits (SBC-3 6.5.3): the largest transfer Linux may send, which it takes as the
    /// queue's max_sectors, and a 4 KiB optimal granularity. The UNMAP counts stay 0, as UNMAP is
    /// not implemented (Linux also only looks at them when READ CAPACITY(16) sets LBPME).
    /// </summary>
    private static byte[] BuildBlockLimits(int maxTransferBlocks)
    {
        byte[] page = Page(0xB0, 0x3C);
        BinaryPrimitives.WriteUInt16BigEndian(page.AsSpan(6), 4096 / IBlockStore.SectorBytes);
        BinaryPrimitives.WriteUInt32BigEndian(page.AsSpan(8), (uint)maxTransferBlocks);
        return page;
    }

    /// <summary>Block device characteristics (SBC-3 6.5.2): rotation rate 1 is "non-rotating", so Linux marks the queue non-rotational.</summary>
    private static byte[] BuildBlockDeviceCharacteristics()
    {
        byte[] page = Page(0xB1, 0x3C);
        BinaryPrimitives.WriteUInt16BigEndian(page.AsSpan(4), 1);
        return page;
    }

    /// <summary>Logical block provisioning (SBC-3 6.5.4): neither UNMAP nor WRITE SAME unmaps, provisioning type not reported.</summary>
    private static byte[] BuildLogicalBlockProvisioning() => Page(0xB2, 4);

    /// <summary>A VPD page with its header: device type 0, the page code, the length after the header.</summary>
    private static byte[] Page(byte code, int length)
    {
        var page = new byte[4 + length];
        page[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(page.AsSpan(2), (ushort)length);
        return page;
    }
}
