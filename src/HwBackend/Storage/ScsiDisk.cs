using System.Buffers.Binary;
using static Actors.HwBackend.Storage.ScsiOpcode;

namespace Actors.HwBackend.Storage;

/// <summary>
/// A SCSI direct-access block device (SPC-3, SBC-3) with 512-byte logical blocks over an
/// <see cref="IBlockStore"/>: the commands Linux's SCSI scan and <c>sd</c> send to a disk, answered
/// as a real disk (or QEMU's scsi-hd) would. The transport hands over a CDB and the guest's data
/// buffer, sized by the guest's transfer length; the disk never reads or writes outside that
/// buffer, and reports how much of it a command used. Everything a guest can put in a CDB is
/// checked before the store sees it: a bad command ends in CHECK CONDITION with ILLEGAL REQUEST
/// sense, never in an exception. Errors are reported with autosense only, so nothing is left
/// pending for REQUEST SENSE.
/// <para>
/// Thread safety: <see cref="Execute"/> may be called concurrently. The disk holds no per-request
/// state (the unknown-opcode set is updated with interlocked operations), and the store must allow
/// concurrent calls, so requests run in parallel; overlapping ones race as they may on a real disk
/// with simple tags, which the control mode page admits (queue algorithm modifier 1).
/// </para>
/// </summary>
public sealed class ScsiDisk : IScsiLun
{
    public const int BlockBytes = IBlockStore.SectorBytes;

    /// <summary>
    /// The largest READ or WRITE accepted, in blocks (2 MiB): advertised in the block limits VPD
    /// page, from which Linux sets the queue's max_sectors, and enforced as SBC-3 asks.
    /// </summary>
    public const int MaxTransferBlocks = 4096;

    /// <summary>The longest serial accepted; the unit serial number and T10 designator carry it whole.</summary>
    public const int MaxSerialLength = 128;

    private const byte DpoFua = 0x10;

    private readonly IBlockStore _store;
    private readonly InquiryData _inquiry;
    private readonly ulong[] _unknownOpcodes = new ulong[256 / 64];

    /// <param name="serial">The unit serial number: printable ASCII, unique per disk and stable for its life, as the guest names the disk after it.</param>
    public ScsiDisk(IBlockStore store, string serial)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(serial);
        if (serial.Length is 0 or > MaxSerialLength || serial.Any(c => c is < ' ' or > '~'))
            throw new ArgumentException($"a serial is 1 to {MaxSerialLength} printable ASCII characters", nameof(serial));
        if (store.Length <= 0 || store.Length % BlockBytes != 0)
            throw new ArgumentException($"the store's {store.Length} bytes are not a whole number of {BlockBytes}-byte blocks", nameof(store));
        _store = store;
        Serial = serial;
        BlockCount = store.Length / BlockBytes;
        _inquiry = new InquiryData(serial, MaxTransferBlocks);
    }

    public string Serial { get; }

    public long BlockCount { get; }

    /// <summary>
    /// The opcodes the guest sent that this disk does not implement, so far: a snapshot, for the
    /// transport to log each one once.
    /// </summary>
    public IReadOnlySet<byte> UnknownOpcodes
    {
        get
        {
            var seen = new SortedSet<byte>();
            for (int opcode = 0; opcode < 256; opcode++)
            {
                if ((Volatile.Read(ref _unknownOpcodes[opcode >> 6]) & (1UL << (opcode & 63))) != 0)
                    seen.Add((byte)opcode);
            }
            return seen;
        }
    }

    /// <summary>
    /// Runs one command. <paramref name="dataIn"/> is the guest's buffer for a command that sends
    /// data to it, <paramref name="dataOut"/> the guest's data for one that takes data from it; the
    /// other is empty. Data-in shorter than the command's data is truncated to the allocation
    /// length and the buffer, as SPC allows; a READ or WRITE whose blocks do not fit its buffer is
    /// refused.
    /// </summary>
    public ScsiResult Execute(ReadOnlySpan<byte> cdb, Span<byte> dataIn, ReadOnlySpan<byte> dataOut)
    {
        if (cdb.IsEmpty)
            return Fail(ScsiSense.InvalidFieldInCdb);
        byte opcode = cdb[0];
        int length = CdbLength(opcode);
        if (length == 0)
        {
            Interlocked.Or(ref _unknownOpcodes[opcode >> 6], 1UL << (opcode & 63));
            return Fail(ScsiSense.InvalidCommandOperationCode);
        }
        if (cdb.Length < length)
            return Fail(ScsiSense.InvalidFieldInCdb);
        cdb = cdb[..length];
        return opcode switch
        {
            TestUnitReady or StartStopUnit => ScsiResult.Good(0),
            RequestSense => SendRequestSense(cdb, dataIn),
            Inquiry => SendInquiry(cdb, dataIn),
            ModeSense6 or ModeSense10 => SendModeSense(cdb, dataIn),
            ReadCapacity10 => SendCapacity(cdb, dataIn),
            ServiceActionIn16 => SendLongCapacity(cdb, dataIn),
            ReportLuns => SendReportLuns(cdb, dataIn),
            Read6 => Read(Lba6(cdb), Blocks6(cdb), dataIn),
            Read10 => (cdb[1] & 0xE0) != 0 ? Fail(ScsiSense.InvalidFieldInCdb) : Read(Lba10(cdb), Blocks10(cdb), dataIn),
            Read16 => (cdb[1] & 0xE0) != 0 ? Fail(ScsiSense.InvalidFieldInCdb) : Read(Lba16(cdb), Blocks16(cdb), dataIn),
            Write6 => Write(Lba6(cdb), Blocks6(cdb), forceUnitAccess: false, dataOut),
            Write10 => (cdb[1] & 0xE0) != 0 ? Fail(ScsiSense.InvalidFieldInCdb) : Write(Lba10(cdb), Blocks10(cdb), Fua(cdb), dataOut),
            Write16 => (cdb[1] & 0xE0) != 0 ? Fail(ScsiSense.InvalidFieldInCdb) : Write(Lba16(cdb), Blocks16(cdb), Fua(cdb), dataOut),
            Verify10 => Verify(cdb),
            SynchronizeCache10 => SynchronizeCache(Lba10(cdb), Blocks10(cdb)),
            SynchronizeCache16 => SynchronizeCache(Lba16(cdb), Blocks16(cdb)),
            _ => throw new InvalidOperationException($"opcode {opcode:X2} has a CDB length but no handler"),
        };
    }

    public ValueTask<ScsiResult> ExecuteAsync(ReadOnlyMemory<byte> cdb, Memory<byte> dataIn, ReadOnlyMemory<byte> dataOut) =>
        new(Execute(cdb.Span, dataIn.Span, dataOut.Span));

    // READ(6)/WRITE(6): a 21-bit LBA, and 0 blocks means 256.
    private static ulong Lba6(ReadOnlySpan<byte> cdb) => ((ulong)(cdb[1] & 0x1F) << 16) | ((ulong)cdb[2] << 8) | cdb[3];

    private static uint Blocks6(ReadOnlySpan<byte> cdb) => cdb[4] == 0 ? 256u : cdb[4];

    private static ulong Lba10(ReadOnlySpan<byte> cdb) => BinaryPrimitives.ReadUInt32BigEndian(cdb[2..]);

    private static uint Blocks10(ReadOnlySpan<byte> cdb) => BinaryPrimitives.ReadUInt16BigEndian(cdb[7..]);

    private static ulong Lba16(ReadOnlySpan<byte> cdb) => BinaryPrimitives.ReadUInt64BigEndian(cdb[2..]);

    private static uint Blocks16(ReadOnlySpan<byte> cdb) => BinaryPrimitives.ReadUInt32BigEndian(cdb[10..]);

    private static bool Fua(ReadOnlySpan<byte> cdb) => (cdb[1] & 0x08) != 0;

    private static ScsiResult Fail(ScsiSense sense) => ScsiResult.CheckCondition(sense);

    /// <summary>Sends as much of <paramref name="data"/> as the allocation length and the buffer allow.</summary>
    private static ScsiResult Send(ReadOnlySpan<byte> data, int allocationLength, Span<byte> dataIn)
    {
        int length = Math.Min(data.Length, Math.Min(allocationLength, dataIn.Length));
        data[..length].CopyTo(dataIn);
        return ScsiResult.Good(length);
    }

    private bool InRange(ulong lba, uint blocks) => lba <= (ulong)BlockCount && blocks <= (ulong)BlockCount - lba;

    /// <summary>Why a READ or WRITE of these blocks with a buffer of <paramref name="bufferLength"/> cannot run, if it cannot.</summary>
    private ScsiSense? CheckTransfer(ulong lba, uint blocks, int bufferLength)
    {
        if (blocks > MaxTransferBlocks)
            return ScsiSense.InvalidFieldInCdb;
        if (!InRange(lba, blocks))
            return ScsiSense.LbaOutOfRange;
        if (bufferLength < (int)blocks * BlockBytes)
            return ScsiSense.InvalidFieldInCdb;
        return null;
    }

    private ScsiResult Read(ulong lba, uint blocks, Span<byte> dataIn)
    {
        if (CheckTransfer(lba, blocks, dataIn.Length) is { } refused)
            return Fail(refused);
        int bytes = (int)blocks * BlockBytes;
        try
        {
            _store.Read((long)lba * BlockBytes, dataIn[..bytes]);
        }
        catch (IOException)
        {
            return Fail(ScsiSense.UnrecoveredReadError);
        }
        return ScsiResult.Good(bytes);
    }

    /// <summary>FUA makes this write stable before the command completes; Linux sends it (as DPOFUA allows) instead of a flush after a journal commit.</summary>
    private ScsiResult Write(ulong lba, uint blocks, bool forceUnitAccess, ReadOnlySpan<byte> dataOut)
    {
        if (CheckTransfer(lba, blocks, dataOut.Length) is { } refused)
            return Fail(refused);
        int bytes = (int)blocks * BlockBytes;
        try
        {
            _store.Write((long)lba * BlockBytes, dataOut[..bytes]);
            if (forceUnitAccess && bytes > 0)
                _store.Flush();
        }
        catch (IOException)
        {
            return Fail(ScsiSense.WriteError);
        }
        return ScsiResult.Good(bytes);
    }

    /// <summary>The whole store is flushed whatever the range, once the range is checked: a store has no cheaper way to flush part of itself.</summary>
    private ScsiResult SynchronizeCache(ulong lba, uint blocks)
    {
        if (!InRange(lba, blocks))
            return Fail(ScsiSense.LbaOutOfRange);
        try
        {
            _store.Flush();
        }
        catch (IOException)
        {
            return Fail(ScsiSense.WriteError);
        }
        return ScsiResult.Good(0);
    }

    /// <summary>
    /// VERIFY(10) without BYTCHK asks the medium to check the blocks are readable, which a store has
    /// no way to do short of reading them; comparing with data out (BYTCHK) is not implemented.
    /// </summary>
    private ScsiResult Verify(ReadOnlySpan<byte> cdb)
    {
        if ((cdb[1] & 0xE6) != 0) // VRPROTECT, BYTCHK
            return Fail(ScsiSense.InvalidFieldInCdb);
        return InRange(Lba10(cdb), Blocks10(cdb)) ? ScsiResult.Good(0) : Fail(ScsiSense.LbaOutOfRange);
    }

    /// <summary>Nothing is ever pending, so this is always "no sense", in the format DESC asks for.</summary>
    private static ScsiResult SendRequestSense(ReadOnlySpan<byte> cdb, Span<byte> dataIn)
    {
        Span<byte> sense = stackalloc byte[ScsiSense.FixedFormatLength];
        sense.Clear();
        int length;
        if ((cdb[1] & 0x01) != 0)
        {
            sense[0] = 0x72; // current error, descriptor format, no descriptors
            length = 8;
        }
        else
            length = ScsiSense.NoSense.WriteFixedFormat(sense);
        return Send(sense[..length], cdb[4], dataIn);
    }

    /// <summary>Standard data with EVPD clear (and page code 0), a VPD page with it set; CMDDT is obsolete and refused.</summary>
    private ScsiResult SendInquiry(ReadOnlySpan<byte> cdb, Span<byte> dataIn)
    {
        bool evpd = (cdb[1] & 0x01) != 0, cmddt = (cdb[1] & 0x02) != 0;
        byte page = cdb[2];
        byte[]? data = cmddt ? null : evpd ? _inquiry.VpdPage(page) : page == 0 ? _inquiry.Standard : null;
        if (data is null)
            return Fail(ScsiSense.InvalidFieldInCdb);
        return Send(data, BinaryPrimitives.ReadUInt16BigEndian(cdb[3..]), dataIn);
    }

    /// <summary>
    /// READ CAPACITY(10): the last LBA, or 0xFFFFFFFF to send Linux to READ CAPACITY(16) when the
    /// disk is 2 TiB or more. A non-zero LBA without PMI is refused, as SBC-3 requires.
    /// </summary>
    private ScsiResult SendCapacity(ReadOnlySpan<byte> cdb, Span<byte> dataIn)
    {
        if ((cdb[8] & 0x01) == 0 && Lba10(cdb) != 0)
            return Fail(ScsiSense.InvalidFieldInCdb);
        Span<byte> data = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)Math.Min(BlockCount - 1, uint.MaxValue));
        BinaryPrimitives.WriteUInt32BigEndian(data[4..], BlockBytes);
        return Send(data, data.Length, dataIn);
    }

    /// <summary>
    /// READ CAPACITY(16), the only SERVICE ACTION IN(16) implemented: the last LBA and block size,
    /// and zeros for the rest (no protection, one logical block per physical block, LBPME clear
    /// as nothing is thin-provisioned through UNMAP).
    /// </summary>
    private ScsiResult SendLongCapacity(ReadOnlySpan<byte> cdb, Span<byte> dataIn)
    {
        if ((cdb[1] & 0x1F) != ReadCapacity16ServiceAction || ((cdb[14] & 0x01) == 0 && Lba16(cdb) != 0))
            return Fail(ScsiSense.InvalidFieldInCdb);
        Span<byte> data = stackalloc byte[32];
        data.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(data, (ulong)BlockCount - 1);
        BinaryPrimitives.WriteUInt32BigEndian(data[8..], BlockBytes);
        return Send(data, (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(cdb[10..]), int.MaxValue), dataIn);
    }

    /// <summary>
    /// MODE SENSE(6) and (10): the header with DPOFUA (Linux uses FUA writes only when it is set),
    /// a block descriptor unless DBD (a long one for LLBAA), then the pages asked for. Saved values
    /// are refused; changeable ones are zeros, since nothing can be changed.
    /// </summary>
    private ScsiResult SendModeSense(ReadOnlySpan<byte> cdb, Span<byte> dataIn)
    {
        bool ten = cdb[0] == ModeSense10;
        bool dbd = (cdb[1] & 0x08) != 0, longLba = ten && (cdb[1] & 0x10) != 0;
        int pageControl = cdb[2] >> 6;
        byte page = (byte)(cdb[2] & 0x3F), subpage = cdb[3];
        int allocationLength = ten ? BinaryPrimitives.ReadUInt16BigEndian(cdb[7..]) : cdb[4];
        if (pageControl == 3)
            return Fail(ScsiSense.SavingParametersNotSupported);
        if (subpage is not (0x00 or 0xFF)) // no page here has subpages; 0xFF asks for all of them
            return Fail(ScsiSense.InvalidFieldInCdb);

        int headerLength = ten ? 8 : 4;
        int descriptorLength = dbd ? 0 : longLba ? 16 : 8;
        Span<byte> data = stackalloc byte[8 + 16 + ModePages.MaxLength];
        data.Clear();
        int pagesLength = ModePages.Write(page, changeable: pageControl == 1, data[(headerLength + descriptorLength)..]);
        if (pagesLength < 0)
            return Fail(ScsiSense.InvalidFieldInCdb);
        int length = headerLength + descriptorLength + pagesLength;

        if (ten)
        {
            BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)(length - 2));
            data[3] = DpoFua;
            data[4] = (byte)(descriptorLength == 16 ? 0x01 : 0x00); // LONGLBA
            BinaryPrimitives.WriteUInt16BigEndian(data[6..], (ushort)descriptorLength);
        }
        else
        {
            data[0] = (byte)(length - 1);
            data[2] = DpoFua;
            data[3] = (byte)descriptorLength;
        }
        Span<byte> descriptor = data.Slice(headerLength, descriptorLength);
        if (pageControl != 1 && descriptorLength == 8)
        {
            BinaryPrimitives.WriteUInt32BigEndian(descriptor, (uint)Math.Min(BlockCount, uint.MaxValue));
            BinaryPrimitives.WriteUInt32BigEndian(descriptor[4..], BlockBytes); // its top byte is the reserved density code
        }
        else if (pageControl != 1 && descriptorLength == 16)
        {
            BinaryPrimitives.WriteUInt64BigEndian(descriptor, (ulong)BlockCount);
            BinaryPrimitives.WriteUInt32BigEndian(descriptor[12..], BlockBytes);
        }
        return Send(data[..length], allocationLength, dataIn);
    }

    /// <summary>
    /// REPORT LUNS from the disk's point of view: it is LUN 0 of its target, and there are no
    /// well-known LUNs. SPC-3 refuses an allocation length under 16.
    /// </summary>
    private static ScsiResult SendReportLuns(ReadOnlySpan<byte> cdb, Span<byte> dataIn)
    {
        byte selectReport = cdb[2];
        uint allocationLength = BinaryPrimitives.ReadUInt32BigEndian(cdb[6..]);
        if (selectReport > 0x02 || allocationLength < 16)
            return Fail(ScsiSense.InvalidFieldInCdb);
        int luns = selectReport == 0x01 ? 0 : 1;
        Span<byte> data = stackalloc byte[16];
        data.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)(luns * 8));
        return Send(data[..(8 + (luns * 8))], (int)Math.Min(allocationLength, int.MaxValue), dataIn);
    }
}
