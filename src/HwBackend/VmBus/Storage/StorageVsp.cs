using System.Buffers.Binary;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Storage;

namespace Actors.HwBackend.VmBus.Storage;

/// <summary>
/// The host's end of a synthetic SCSI controller (Hyper-V's storage VSP), as Linux's
/// <c>hv_storvsc</c> speaks to it: the guest opens the channel and initialises it (BEGIN,
/// QUERY_PROTOCOL_VERSION, QUERY_PROPERTIES, END), then sends each SCSI command as an EXECUTE_SRB
/// packet, with its data pages listed in the packet (GPA direct), and gets a COMPLETE_IO carrying
/// the same transaction id with the SCSI status, sense data and the bytes transferred. One disk per
/// LUN on path 0, target 0; at any other address INQUIRY says no device is there and REPORT LUNS
/// lists none, which ends Linux's scan of it, and anything else is an INVALID_LUN. Everything in a packet is guest input: a request that does not fit the packet,
/// names pages outside RAM or asks for more than <see cref="MaxTransferBytes"/> is failed with an
/// SRB error, never carried out. Requests are served on the vCPU thread that signalled, in order.
/// </summary>
public sealed class StorageVsp : IVmBusDevice
{
    /// <summary>What the guest may move in one request; Linux sizes its requests and page lists from it.</summary>
    public const int MaxTransferBytes = 512 * 1024;

    /// <summary>The protocol version spoken: Windows 10's (6.2), the first Linux asks for.</summary>
    public const ushort ProtocolVersion = 0x0602;

    private const int PacketBytes = 64; // vstor_packet: operation, flags, status, then 52 bytes of union
    private const int SrbOffset = 12;
    private const int MaxPagesPerRequest = (MaxTransferBytes / GuestRam.PageSize) + 1;
    private const int GpaDirectPacket = 9;
    private const int SenseBytes = 20;

    // Operations (vstor_packet_operation).
    private const uint CompleteIo = 1, ExecuteSrb = 3, ResetLun = 4, ResetAdapter = 5, ResetBus = 6;
    private const uint BeginInitialization = 7, EndInitialization = 8, QueryProtocolVersion = 9, QueryProperties = 10;

    // SRB statuses.
    private const byte SrbSuccess = 0x01, SrbError = 0x04, SrbInvalidRequest = 0x06, SrbInvalidLun = 0x20, SrbAutosenseValid = 0x80;

    private const uint StatusFailure = 0xC000_0001;

    private const byte Inquiry = 0x12, ReportLuns = 0xA0;

    private readonly Lock _lock = new();
    private readonly GuestPhysicalMap _memory;
    private readonly IReadOnlyList<ScsiDisk> _luns;
    private readonly byte[] _packet = new byte[4096];
    private readonly byte[] _data = new byte[MaxTransferBytes];
    private readonly byte[] _answer = new byte[PacketBytes];
    private readonly ulong[] _pages = new ulong[MaxPagesPerRequest];
    private IVmBusChannel? _channel;

    /// <param name="luns">The disks, at LUN 0, 1, ... of target 0.</param>
    public StorageVsp(GuestPhysicalMap memory, IReadOnlyList<ScsiDisk> luns)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(luns);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(luns.Count, 255, nameof(luns));
        _memory = memory;
        _luns = luns;
    }

    /// <summary>Packets dropped as malformed (too short for their operation or their page list).</summary>
    public long Malformed
    {
        get { lock (_lock) return _malformed; }
    }

    /// <summary>SCSI requests carried out (whatever their SCSI status).</summary>
    public long Requests
    {
        get { lock (_lock) return _requests; }
    }

    private long _malformed, _requests;

    public void Opened(IVmBusChannel channel)
    {
        lock (_lock)
            _channel = channel;
    }

    public void Closed()
    {
        lock (_lock)
            _channel = null;
    }

    public void Signalled(IVmBusChannel channel)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(channel, _channel))
                return;
            int length;
            while ((length = channel.TryReceive(_packet)) > 0)
                ServeLocked(channel, _packet.AsSpan(0, length));
        }
    }

    private void ServeLocked(IVmBusChannel channel, ReadOnlySpan<byte> packet)
    {
        int dataOffset = BinaryPrimitives.ReadUInt16LittleEndian(packet[2..]) * 8;
        ulong transaction = BinaryPrimitives.ReadUInt64LittleEndian(packet[8..]);
        if (packet.Length - dataOffset < PacketBytes)
        {
            _malformed++;
            return;
        }
        ReadOnlySpan<byte> request = packet.Slice(dataOffset, PacketBytes);
        Span<byte> answer = _answer;
        answer.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(answer, CompleteIo);
        uint status = 0;
        switch (BinaryPrimitives.ReadUInt32LittleEndian(request))
        {
            case BeginInitialization or EndInitialization or ResetLun or ResetAdapter or ResetBus:
                break;
            case QueryProtocolVersion:
                request.Slice(SrbOffset, 4).CopyTo(answer[SrbOffset..]);
                if (BinaryPrimitives.ReadUInt16LittleEndian(request[SrbOffset..]) != ProtocolVersion)
                    status = StatusFailure;
                break;
            case QueryProperties:
                // No sub-channels (max_channel_cnt 0, no multi-channel flag); the largest transfer.
                BinaryPrimitives.WriteUInt32LittleEndian(answer[(SrbOffset + 12)..], MaxTransferBytes);
                break;
            case ExecuteSrb:
                request.Slice(SrbOffset).CopyTo(answer[SrbOffset..]);
                ExecuteLocked(packet, dataOffset, answer[SrbOffset..]);
                break;
            default:
                status = StatusFailure; // sub-channels, FC data, and anything unknown
                break;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(answer[8..], status);
        channel.TrySend(transaction, answer);
    }

    /// <summary>Carries out one SCSI request block, writing its outcome into <paramref name="srb"/> (a copy of the guest's).</summary>
    private void ExecuteLocked(ReadOnlySpan<byte> packet, int dataOffset, Span<byte> srb)
    {
        _requests++;
        byte path = srb[5], target = srb[6], lun = srb[7];
        int cdbLength = srb[8];
        byte direction = srb[10]; // 0 to the device, 1 from it, 2 none
        if (cdbLength is < 1 or > 16 || direction > 2 || !TryPages(packet, dataOffset, out int pageOffset, out int length, out int pageCount))
        {
            _malformed++;
            Finish(srb, SrbInvalidRequest, 0, 0, default);
            return;
        }
        if (direction == 2)
            length = 0;
        Span<byte> data = _data.AsSpan(0, length);
        if (direction == 0)
            Gather(pageOffset, pageCount, data);
        ReadOnlySpan<byte> cdb = srb.Slice(16, cdbLength);
        bool present = path == 0 && target == 0 && lun < _luns.Count;
        ScsiResult result;
        if (cdb[0] == ReportLuns && direction == 1)
            result = ReportLunsOf(path == 0 && target == 0 ? _luns.Count : 0, data);
        else if (present)
            result = _luns[lun].Execute(cdb, direction == 1 ? data : default, direction == 0 ? data : default);
        else if (cdb[0] == Inquiry && direction == 1)
            result = NobodyHere(data);
        else
        {
            Finish(srb, SrbInvalidLun, 0, 0, default);
            return;
        }
        if (direction == 1)
            Scatter(pageOffset, pageCount, data[..result.Transferred]);
        if (result.Status == ScsiStatus.Good)
        {
            Finish(srb, SrbSuccess, 0, result.Transferred, default);
            return;
        }
        Span<byte> sense = stackalloc byte[SenseBytes];
        int senseLength = result.WriteSenseData(sense);
        Finish(srb, SrbError | SrbAutosenseValid, (byte)result.Status, result.Transferred, sense[..senseLength]);
    }

    /// <summary>
    /// REPORT LUNS, answered by the controller for every target, since it knows which LUNs have
    /// disks: LUN 0 to <paramref name="count"/> - 1 at target 0, none elsewhere, so that Linux's scan
    /// of the other targets ends at once.
    /// </summary>
    private static ScsiResult ReportLunsOf(int count, Span<byte> data)
    {
        Span<byte> list = stackalloc byte[8 + (8 * 255)];
        list.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(list, (uint)(8 * count));
        for (int lun = 0; lun < count; lun++)
            list[8 + (8 * lun) + 1] = (byte)lun; // single-level, peripheral addressing
        int length = Math.Min(data.Length, 8 + (8 * count));
        list[..length].CopyTo(data);
        return ScsiResult.Good(length);
    }

    /// <summary>
    /// INQUIRY to an address with no disk: "no device here" (peripheral qualifier 3, type 0x1F), as a
    /// SCSI target answers. Linux's storvsc takes every INQUIRY as successful whatever its SRB status,
    /// so only this data keeps its scan from adding a phantom disk.
    /// </summary>
    private static ScsiResult NobodyHere(Span<byte> data)
    {
        Span<byte> inquiry = stackalloc byte[36];
        inquiry.Clear();
        inquiry[0] = 0x7F;
        inquiry[4] = 31; // additional length
        int length = Math.Min(data.Length, inquiry.Length);
        inquiry[..length].CopyTo(data);
        return ScsiResult.Good(length);
    }

    /// <summary>
    /// The data pages of a GPA-direct packet: one range (as Linux sends), its offset within the first
    /// page, its length, and every page RAM. An in-band packet has none. False for a page list that
    /// does not fit the descriptor, a second range, a length beyond the maximum, or a page outside RAM.
    /// </summary>
    private bool TryPages(ReadOnlySpan<byte> packet, int dataOffset, out int pageOffset, out int length, out int pageCount)
    {
        (pageOffset, length, pageCount) = (0, 0, 0);
        if (BinaryPrimitives.ReadUInt16LittleEndian(packet) != GpaDirectPacket)
            return true;
        if (dataOffset < 32 || BinaryPrimitives.ReadUInt32LittleEndian(packet[20..]) != 1)
            return false;
        uint rangeLength = BinaryPrimitives.ReadUInt32LittleEndian(packet[24..]);
        uint rangeOffset = BinaryPrimitives.ReadUInt32LittleEndian(packet[28..]);
        if (rangeLength > MaxTransferBytes || rangeOffset >= GuestRam.PageSize)
            return false;
        int pages = (int)((rangeOffset + rangeLength + GuestRam.PageSize - 1) / GuestRam.PageSize);
        if (32 + (8 * pages) > dataOffset)
            return false;
        for (int i = 0; i < pages; i++)
        {
            ulong pfn = BinaryPrimitives.ReadUInt64LittleEndian(packet[(32 + (8 * i))..]);
            if (pfn >= 1UL << 40 || !_memory.IsRam(pfn * GuestRam.PageSize, GuestRam.PageSize))
                return false;
            _pages[i] = pfn;
        }
        (pageOffset, length, pageCount) = ((int)rangeOffset, (int)rangeLength, pages);
        return true;
    }

    private void Gather(int pageOffset, int pageCount, Span<byte> into)
    {
        int done = 0;
        for (int i = 0; i < pageCount && done < into.Length; i++)
        {
            int start = i == 0 ? pageOffset : 0;
            int chunk = Math.Min(into.Length - done, GuestRam.PageSize - start);
            _memory.Read((_pages[i] * GuestRam.PageSize) + (ulong)start, into.Slice(done, chunk));
            done += chunk;
        }
    }

    private void Scatter(int pageOffset, int pageCount, ReadOnlySpan<byte> from)
    {
        int done = 0;
        for (int i = 0; i < pageCount && done < from.Length; i++)
        {
            int start = i == 0 ? pageOffset : 0;
            int chunk = Math.Min(from.Length - done, GuestRam.PageSize - start);
            _memory.Write((_pages[i] * GuestRam.PageSize) + (ulong)start, from.Slice(done, chunk));
            done += chunk;
        }
    }

    /// <summary>Fills in an SRB's outcome: statuses, bytes transferred, and the sense data of a CHECK CONDITION.</summary>
    private static void Finish(Span<byte> srb, byte srbStatus, byte scsiStatus, int transferred, ReadOnlySpan<byte> sense)
    {
        srb[2] = srbStatus;
        srb[3] = scsiStatus;
        int senseLength = Math.Min(sense.Length, SenseBytes);
        srb[9] = (byte)senseLength;
        BinaryPrimitives.WriteUInt32LittleEndian(srb[12..], (uint)transferred);
        Span<byte> area = srb.Slice(16, SenseBytes);
        area.Clear();
        sense[..senseLength].CopyTo(area);
    }
}
