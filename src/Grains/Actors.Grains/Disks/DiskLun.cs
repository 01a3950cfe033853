using System.Buffers.Binary;
using System.Diagnostics;
using Actors.Grains.Telemetry;
using Actors.HwBackend.Storage;
using Actors.HwBackend.VmBus;

namespace Actors.Grains.Disks;

/// <summary>
/// A VM's disk as its storage VSP reaches it: each SCSI command goes to the disk's owner grain on the
/// host that holds the disk, which may be this host or another, and the answer comes back here.
/// Called from the vCPU thread that read the request; the answer completes on whichever thread
/// Orleans delivers it.
/// </summary>
internal sealed class DiskLun(IVirtualDiskGrain disk, string diskName, string vmName, HypervisorMetrics metrics) : IScsiLun
{
    public async ValueTask<ScsiResult> ExecuteAsync(ReadOnlyMemory<byte> cdb, Memory<byte> dataIn, ReadOnlyMemory<byte> dataOut)
    {
        long started = Stopwatch.GetTimestamp();
        // Each command is its own trace: this span, the Orleans call, and the disk owner's span on its host.
        using Activity? span = HypervisorTracing.Source.StartActivity("ScsiCommand");
        if (span is not null)
            Describe(span, cdb.Span);
        ScsiCommandOutcome outcome = await disk.ExecuteAsync(vmName, cdb.ToArray(), dataOut.IsEmpty ? null : dataOut.ToArray(), dataIn.Length).ConfigureAwait(false);
        int transferred = Math.Clamp(outcome.Transferred, 0, dataIn.IsEmpty ? dataOut.Length : dataIn.Length);
        if (outcome.DataIn is { } data)
        {
            transferred = Math.Min(transferred, data.Length);
            data.AsSpan(0, transferred).CopyTo(dataIn.Span);
        }
        metrics.DiskCommand(diskName, cdb.Span[0], dataIn.IsEmpty ? 0 : transferred, dataIn.IsEmpty ? transferred : 0, Stopwatch.GetElapsedTime(started));
        span?.SetTag("scsi.status", outcome.Status);
        if (outcome.Status == (byte)ScsiStatus.Good)
            return ScsiResult.Good(transferred);
        return ScsiResult.CheckCondition(new ScsiSense((SenseKey)outcome.SenseKey, outcome.Asc, outcome.Ascq));
    }

    /// <summary>Tags a command's span with what it asks: the VM, the disk, the opcode, and for a read or write its LBA and length in blocks.</summary>
    private void Describe(Activity span, ReadOnlySpan<byte> cdb)
    {
        // The channel the request came on, by its channel grain's key (VM/RELID); the grain itself is not on the request's path.
        span.SetTag("actors.vm", vmName).SetTag("actors.disk", diskName).SetTag("scsi.opcode", cdb[0])
            .SetTag("actors.vmbus_channel", $"{vmName}/{VmBusOffer.ScsiControllerRelid}");
        (ulong Lba, uint Blocks)? range = cdb[0] switch
        {
            0x28 or 0x2A when cdb.Length >= 10 => (BinaryPrimitives.ReadUInt32BigEndian(cdb[2..]), BinaryPrimitives.ReadUInt16BigEndian(cdb[7..])),
            0x88 or 0x8A when cdb.Length >= 16 => (BinaryPrimitives.ReadUInt64BigEndian(cdb[2..]), BinaryPrimitives.ReadUInt32BigEndian(cdb[10..])),
            _ => null,
        };
        if (range is { } r)
            span.SetTag("actors.lba", r.Lba).SetTag("actors.blocks", r.Blocks);
    }
}
