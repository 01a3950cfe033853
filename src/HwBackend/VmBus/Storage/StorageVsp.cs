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
/// SRB error, never carried out. Requests are read on the vCPU thread that signalled; a disk that
/// answers at once (a local <see cref="ScsiDisk"/>) is answered there too, and one that answers
/// later (a disk on another host) completes from whichever thread its answer arrives on, up to
/// <see cref="MaxInFlight"/> at a time: beyond that the guest's packets wait in the ring.
/// </summary>
public sealed class StorageVsp : IVmBusDevice
{
    /// <summary>What the guest may move in one request; Linux sizes its requests and page lists from it.</summary>
    public const int MaxTransferBytes = 512 * 1024;

    /// <summary>LUNs on target 0 a controller can have disks at.</summary>
    public const int MaxLuns = 64;

    /// <summary>Requests a disk may have outstanding; each holds a buffer of <see cref="MaxTransferBytes"/>.</summary>
    public const int MaxInFlight = 16;

    /// <summary>The protocol version spoken: Windows 10's (6.2), the first Linux asks for.</summary>
    public const ushort ProtocolVersion = 0x0602;

    private const int PacketBytes = 64; // vstor_packet: operation, flags, status, then 52 bytes of union
    private const int SrbOffset = 12;
    private const int SenseBytes = 20;

    // Operations (vstor_packet_operation).
    private const uint CompleteIo = 1, ExecuteSrb = 3, ResetLun = 4, ResetAdapter = 5, ResetBus = 6;
    private const uint BeginInitialization = 7, EndInitialization = 8, QueryProtocolVersion = 9, QueryProperties = 10, EnumerateBus = 11;

    // SRB statuses.
    private const byte SrbSuccess = 0x01, SrbError = 0x04, SrbInvalidRequest = 0x06, SrbInvalidLun = 0x20, SrbAutosenseValid = 0x80;

    private const uint StatusFailure = 0xC000_0001;

    private const byte Inquiry = 0x12, ReportLuns = 0xA0;

    private readonly Lock _lock = new();
    private readonly GuestPhysicalMap _memory;
    private readonly IScsiLun?[] _luns = new IScsiLun?[MaxLuns]; // changed under the lock while the guest runs
    private readonly byte[] _packet = new byte[4096];
    private readonly byte[] _answer = new byte[PacketBytes];
    private readonly Stack<StorageRequest> _idle = new();
    private IVmBusChannel? _channel;
    private int _inFlight;
    private bool _detached;
    private TaskCompletionSource? _drained;
    private long _malformed, _requests;

    /// <param name="luns">The disks, at LUN 0, 1, ... of target 0 (null: none at that LUN).</param>
    public StorageVsp(GuestPhysicalMap memory, IReadOnlyList<IScsiLun?> luns)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(luns);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(luns.Count, MaxLuns, nameof(luns));
        _memory = memory;
        for (int i = 0; i < luns.Count; i++)
            _luns[i] = luns[i];
    }

    /// <summary>
    /// Puts a disk at <paramref name="lun"/>, or takes it away (null), on the running controller, and
    /// tells the guest to scan its bus (ENUMERATE_BUS, as Hyper-V does for a disk added or removed):
    /// Linux then tests every disk it knows, drops the one that answers "invalid LUN", and adds the
    /// new ones REPORT LUNS lists. Requests already given to a removed disk are answered by it.
    /// </summary>
    public void SetLun(int lun, IScsiLun? disk)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lun);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(lun, MaxLuns);
        lock (_lock)
        {
            _luns[lun] = disk;
            if (_channel is not { } channel || _detached)
                return;
            Span<byte> scan = _answer;
            scan.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(scan, EnumerateBus);
            channel.TrySend(0, scan); // unsolicited: transaction id 0, which Linux expects of these
        }
    }

    /// <summary>Packets dropped or failed as malformed (too short, or a page list or field that cannot be honoured).</summary>
    public long Malformed
    {
        get { lock (_lock) return _malformed; }
    }

    /// <summary>SCSI requests carried out (whatever their SCSI status).</summary>
    public long Requests
    {
        get { lock (_lock) return _requests; }
    }

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
            ServeLocked(channel);
    }

    /// <summary>
    /// Completes once no request is outstanding: the VM's vCPUs are stopped and it is about to be
    /// saved or moved, so that every request the guest made is answered in the memory that goes.
    /// </summary>
    public Task DrainAsync()
    {
        lock (_lock)
        {
            if (_inFlight == 0)
                return Task.CompletedTask;
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    /// <summary>The machine is going: answers that arrive after this are dropped, not written into memory that may be freed.</summary>
    public void Detach()
    {
        lock (_lock)
        {
            _detached = true;
            _channel = null;
        }
    }

    /// <summary>Reads and serves the guest's packets while there is room for another request in flight.</summary>
    private void ServeLocked(IVmBusChannel channel)
    {
        if (!ReferenceEquals(channel, _channel))
            return;
        int length;
        while (_inFlight < MaxInFlight && (length = channel.TryReceive(_packet)) > 0)
            ServeLocked(channel, _packet.AsSpan(0, length));
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
                StartLocked(channel, packet, dataOffset, request[SrbOffset..], transaction);
                return;
            default:
                status = StatusFailure; // sub-channels, FC data, and anything unknown
                break;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(answer, CompleteIo);
        BinaryPrimitives.WriteUInt32LittleEndian(answer[8..], status);
        channel.TrySend(transaction, answer);
    }

    /// <summary>Checks one SCSI request block and its pages, and hands it to its LUN (or answers it here when there is none).</summary>
    private void StartLocked(IVmBusChannel channel, ReadOnlySpan<byte> packet, int dataOffset, ReadOnlySpan<byte> srb, ulong transaction)
    {
        _requests++;
        StorageRequest request = _idle.Count > 0 ? _idle.Pop() : new StorageRequest();
        srb.CopyTo(request.Srb);
        (request.Transaction, request.Channel, request.Direction) = (transaction, channel, srb[10]);
        if (request.CdbLength is < 1 or > 16 || request.Direction > 2 || !TryPages(packet, dataOffset, request))
        {
            _malformed++;
            FinishLocked(request, ScsiOutcome(SrbInvalidRequest));
            return;
        }
        if (request.Direction == 2)
            request.Length = 0;
        Memory<byte> data = request.Data.AsMemory(0, request.Length);
        if (request.Direction == 0)
            CopyData(request, data.Span, toGuest: false);
        ReadOnlyMemory<byte> cdb = request.Srb.AsMemory(16, request.CdbLength);
        byte opcode = request.Srb[16], path = request.Srb[5], target = request.Srb[6];
        IScsiLun? disk = path == 0 && target == 0 && request.Lun < MaxLuns ? _luns[request.Lun] : null;
        bool present = disk is not null;
        if (opcode == ReportLuns && request.Direction == 1)
            FinishLocked(request, ReportLunsOf(path == 0 && target == 0 ? _luns : [], data.Span));
        else if (!present && opcode == Inquiry && request.Direction == 1)
            FinishLocked(request, NobodyHere(data.Span));
        else if (!present)
            FinishLocked(request, ScsiOutcome(SrbInvalidLun));
        else
        {
            _inFlight++;
            ValueTask<ScsiResult> running = disk!.ExecuteAsync(cdb, request.Direction == 1 ? data : default, request.Direction == 0 ? data : default);
            if (running.IsCompleted)
            {
                _inFlight--;
                FinishLocked(request, Outcome(running));
            }
            else
                _ = CompleteLaterAsync(request, running);
        }
    }

    /// <summary>A LUN that answers later: its outcome is written back when it comes, and the guest's next packets are read.</summary>
    private async Task CompleteLaterAsync(StorageRequest request, ValueTask<ScsiResult> running)
    {
        (byte, ScsiResult) outcome;
        try
        {
            outcome = (SrbSuccess, await running.ConfigureAwait(false));
        }
        catch (Exception)
        {
            // The disk's host did not answer: the guest is told the unit is becoming ready, and retries.
            outcome = (SrbSuccess, ScsiResult.CheckCondition(ScsiSense.BecomingReady));
        }
        lock (_lock)
        {
            _inFlight--;
            FinishLocked(request, outcome);
            if (_inFlight == 0 && _drained is { } drained)
            {
                _drained = null;
                drained.TrySetResult();
            }
            if (_channel is { } channel)
                ServeLocked(channel);
        }
    }

    private static (byte, ScsiResult) ScsiOutcome(byte srbStatus) => (srbStatus, default);

    private static (byte, ScsiResult) Outcome(ValueTask<ScsiResult> completed)
    {
        try
        {
            return (SrbSuccess, completed.Result);
        }
        catch (Exception)
        {
            return (SrbSuccess, ScsiResult.CheckCondition(ScsiSense.BecomingReady));
        }
    }

    /// <summary>
    /// Writes a request's outcome back: its data into the guest's pages, then COMPLETE_IO with the
    /// SRB's statuses, sense and length; unless the channel closed or the machine is going, in which
    /// case no guest memory is touched. The request goes back to the pool.
    /// </summary>
    private void FinishLocked(StorageRequest request, (byte SrbStatus, ScsiResult Result) outcome)
    {
        IVmBusChannel? channel = request.Channel;
        request.Channel = null;
        _idle.Push(request);
        if (_detached || !ReferenceEquals(channel, _channel) || channel is null)
            return;
        ScsiResult result = outcome.Result;
        Span<byte> srb = request.Srb;
        Span<byte> sense = stackalloc byte[SenseBytes];
        int senseLength = 0;
        if (outcome.SrbStatus != SrbSuccess)
            (srb[2], srb[3], result) = (outcome.SrbStatus, 0, ScsiResult.Good(0));
        else if (result.Status == ScsiStatus.Good)
            (srb[2], srb[3]) = (SrbSuccess, 0);
        else
        {
            (srb[2], srb[3]) = (SrbError | SrbAutosenseValid, (byte)result.Status);
            senseLength = result.WriteSenseData(sense);
        }
        int transferred = Math.Clamp(result.Transferred, 0, request.Length);
        if (request.Direction == 1)
            CopyData(request, request.Data.AsSpan(0, transferred), toGuest: true);
        srb[9] = (byte)senseLength;
        BinaryPrimitives.WriteUInt32LittleEndian(srb[12..], (uint)transferred);
        Span<byte> area = srb.Slice(16, SenseBytes);
        area.Clear();
        sense[..senseLength].CopyTo(area);

        Span<byte> answer = _answer;
        answer.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(answer, CompleteIo);
        srb.CopyTo(answer[SrbOffset..]);
        channel.TrySend(request.Transaction, answer);
    }

    /// <summary>
    /// REPORT LUNS, answered by the controller for every target, since it knows which LUNs have
    /// disks: those of <paramref name="luns"/> that have one (target 0), none elsewhere, so that
    /// Linux's scan of the other targets ends at once.
    /// </summary>
    private static (byte, ScsiResult) ReportLunsOf(ReadOnlySpan<IScsiLun?> luns, Span<byte> data)
    {
        Span<byte> list = stackalloc byte[8 + (8 * MaxLuns)];
        list.Clear();
        int count = 0;
        for (int lun = 0; lun < luns.Length; lun++)
        {
            if (luns[lun] is not null)
                list[8 + (8 * count++) + 1] = (byte)lun; // single-level, peripheral addressing
        }
        BinaryPrimitives.WriteUInt32BigEndian(list, (uint)(8 * count));
        int length = Math.Min(data.Length, 8 + (8 * count));
        list[..length].CopyTo(data);
        return (SrbSuccess, ScsiResult.Good(length));
    }

    /// <summary>
    /// INQUIRY to an address with no disk: "no device here" (peripheral qualifier 3, type 0x1F), as a
    /// SCSI target answers. Linux's storvsc takes every INQUIRY as successful whatever its SRB status,
    /// so only this data keeps its scan from adding a phantom disk.
    /// </summary>
    private static (byte, ScsiResult) NobodyHere(Span<byte> data)
    {
        Span<byte> inquiry = stackalloc byte[36];
        inquiry.Clear();
        inquiry[0] = 0x7F;
        inquiry[4] = 31; // additional length
        int length = Math.Min(data.Length, inquiry.Length);
        inquiry[..length].CopyTo(data);
        return (SrbSuccess, ScsiResult.Good(length));
    }

    /// <summary>
    /// The data pages of a GPA-direct packet: one range (as Linux sends), its offset within the first
    /// page, its length, and every page RAM. An in-band packet has none. False for a page list that
    /// does not fit the descriptor, a second range, a length beyond the maximum, or a page outside RAM.
    /// </summary>
    private bool TryPages(ReadOnlySpan<byte> packet, int dataOffset, StorageRequest request)
    {
        (request.PageOffset, request.Length, request.PageCount) = (0, 0, 0);
        if (BinaryPrimitives.ReadUInt16LittleEndian(packet) != (ushort)VmBusPacketType.DataUsingGpaDirect)
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
            request.Pages[i] = pfn;
        }
        (request.PageOffset, request.Length, request.PageCount) = ((int)rangeOffset, (int)rangeLength, pages);
        return true;
    }

    /// <summary>Copies a request's data between its buffer and the guest's pages: the range starts at the page offset in the first page and runs on from the start of each next one.</summary>
    private void CopyData(StorageRequest request, Span<byte> buffer, bool toGuest)
    {
        int done = 0;
        for (int i = 0; i < request.PageCount && done < buffer.Length; i++)
        {
            int start = i == 0 ? request.PageOffset : 0;
            int chunk = Math.Min(buffer.Length - done, GuestRam.PageSize - start);
            ulong gpa = (request.Pages[i] * GuestRam.PageSize) + (ulong)start;
            if (toGuest)
                _memory.Write(gpa, buffer.Slice(done, chunk));
            else
                _memory.Read(gpa, buffer.Slice(done, chunk));
            done += chunk;
        }
    }
}
