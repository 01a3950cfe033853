using System.Buffers;
using System.Diagnostics;
using Actors.Grains.Telemetry;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Worker;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Worker;

/// <summary>
/// This VM's end of a live migration's data path. The source's worker pushes pages straight to the
/// target's worker of the same VM, several batches in flight; the coordinator only says when to do
/// a pass and when to switch over, so guest memory never passes through a third silo.
/// </summary>
public sealed partial class VmWorkerGrain
{
    /// <summary>Page batches a source keeps in flight to its target.</summary>
    private const int BatchesInFlight = 4;

    // Page data segments of outgoing batches, reused once the target has them: at hundreds of MiB/s,
    // fresh arrays would make the source (whose guest runs meanwhile) collect garbage every few ms.
    private static readonly ArrayPool<byte> SegmentPool = ArrayPool<byte>.Create(GuestPageTransfer.PagesPerSegment * GuestRam.PageSize, 4 * BatchesInFlight * GuestPageTransfer.PagesPerSegment);

    // Scratch for one dirty-log collection (one bit per RAM page) while this VM migrates away.
    private ulong[]? _dirtyScratch;

    public async Task PrepareIncomingAsync(VmConfiguration configuration)
    {
        if (_run is not null)
            throw new HypervisorException($"VM '{VmName}' is already on host '{Host}'");
        await HostHardware.AdmitAsync(VmName, configuration.MemoryBytes);
        try
        {
            _run = CreateRun(configuration, await AttachDisksAsync(configuration), image: null);
        }
        catch
        {
            await HostHardware.ReleaseAsync(VmName);
            throw;
        }

        _run.Worker.PrepareThreads();
        logger.LogInformation("Preparing to receive VM {Vm} on {Host}", VmName, Host);
    }

    public async Task ReceivePagesAsync(PageBatch batch, MigrationHandover? handover)
    {
        Run incoming = _run is { Arriving: true } run
            ? run
            : throw new HypervisorException($"no migration of VM '{VmName}' is arriving on host '{Host}'");
        try
        {
            GuestPageTransfer.Write(incoming.Worker.Machine.Memory.Ram, new GuestPageBatch(batch.Pages, batch.Segments, batch.ZeroPages));
        }
        catch (ArgumentException e)
        {
            throw new HypervisorException($"VM '{VmName}' on host '{Host}': {e.Message}");
        }

        if (handover is not null)
            await StartIncomingAsync(incoming, handover);
    }

    /// <summary>The switch-over's last step: the snapshot arrived with the last pages; continue the guest here.</summary>
    private async Task StartIncomingAsync(Run incoming, MigrationHandover handover)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            incoming.Worker.RestoreSnapshot(handover.Snapshot);
        }
        catch (Exception e)
        {
            // Whatever went wrong, nothing of the half-built machine may stay behind: its RAM, its
            // parked threads, its reservation. The source resumes its guest when this call fails.
            await DropAsync();
            if (e is SnapshotException or InvalidOperationException)
                throw new HypervisorException($"VM '{VmName}' cannot be restored on host '{Host}': {e.Message}");
            throw;
        }

        TimeSpan restored = clock.Elapsed;
        incoming.EarlierInstructions = handover.InstructionsRetired;
        await StartRunAsync(incoming);
        logger.LogInformation("VM {Vm} arrived on {Host} and runs: restored in {Restored} ms, running after {Running} ms", VmName, Host, restored.TotalMilliseconds, clock.Elapsed.TotalMilliseconds);
    }

    public async Task AbortIncomingAsync()
    {
        if (_run is not { Arriving: true })
        {
            DeactivateIfEmpty();
            return;
        }

        await DropAsync();
        logger.LogInformation("Dropped incoming VM {Vm} on {Host}", VmName, Host);
    }

    public async Task<MigrationPassReport> SendPassAsync(string targetHost, int pass, long maxBytesPerSecond, int throttlePercent, long switchOverAtPages)
    {
        using Activity? span = HypervisorTracing.Start("MigrationPass", VmName, Host);
        VmWorker worker = Running().Worker;
        worker.SetThrottle(Math.Clamp(throttlePercent, 0, 99));
        ulong[] dirty = DirtyScratch(worker);
        var clock = Stopwatch.StartNew();
        // Collect first, always: it re-arms dirty tracking, so a page written while it is being
        // copied is dirty again next pass. On pass 1 everything goes regardless.
        worker.Machine.CollectDirtyPages(dirty);
        if (pass == 1)
            Array.Fill(dirty, ulong.MaxValue);
        (long pages, long zero, long bytes) = await SendPagesAsync(worker, dirty, targetHost, maxBytesPerSecond);
        TimeSpan duration = clock.Elapsed;
        long dirtied = (long)worker.Machine.CountDirtyPages();
        MigrationSwitchOverReport? switchOver = dirtied <= switchOverAtPages
            ? await SwitchOverAsync(targetHost)
            : null;
        return new MigrationPassReport(pages, zero, bytes, duration, dirtied, switchOver);
    }

    /// <summary>
    /// The stop-and-copy: stops the vCPUs, sends the last dirty pages and the snapshot, has the
    /// target start, and frees the machine here. If the target fails, the VM resumes here and this throws.
    /// </summary>
    private async Task<MigrationSwitchOverReport> SwitchOverAsync(string targetHost)
    {
        using Activity? span = HypervisorTracing.Start("MigrationSwitchOver", VmName, Host);
        Run run = Running();
        VmWorker worker = run.Worker;
        ulong[] dirty = DirtyScratch(worker);
        IVmWorkerGrain target = TargetWorker(targetHost);
        var downtime = Stopwatch.StartNew();
        // Pause waits (briefly: each vCPU parks at its next block boundary) on this turn: a hop to the
        // thread pool here costs milliseconds of downtime on a busy host.
        worker.Pause();
        run.Moving = true;
        try
        {
            await DrainStorageAsync(worker);
            TimeSpan paused = downtime.Elapsed;
            worker.Machine.CollectDirtyPages(dirty);
            // What fits one batch rides with the snapshot (one round trip less while the guest
            // is stopped); a larger remainder (a forced switch-over) goes ahead in batches.
            GuestRam ram = worker.Machine.Memory.Ram;
            bool oneBatch = GuestPageTransfer.Count(dirty, ram.PageCount) <= GuestPageTransfer.MaxBatchBytes / GuestRam.PageSize;
            GuestPageBatch final = oneBatch
                ? GuestPageTransfer.Read(ram, dirty).FirstOrDefault() ?? GuestPageBatch.Empty
                : GuestPageBatch.Empty;
            long pages = final.Pages.Length, bytes = final.DataBytes;
            if (!oneBatch)
                (pages, _, bytes) = await SendPagesAsync(worker, dirty, targetHost, maxBytesPerSecond: 0);
            TimeSpan copied = downtime.Elapsed;
            var handover = new MigrationHandover(worker.SaveSnapshot(), run.InstructionsRetired);
            TimeSpan encoded = downtime.Elapsed;
            await target.ReceivePagesAsync(new PageBatch(final.Pages, final.Segments, final.ZeroPages), handover);
            downtime.Stop();
            logger.LogInformation("Switch-over of {Vm}: paused after {Paused} ms, {Pages} pages copied by {Copied} ms, snapshot ({SnapshotBytes} bytes) taken by {Encoded} ms, target running at {Total} ms",
                VmName, paused.TotalMilliseconds, pages, copied.TotalMilliseconds, handover.Snapshot.Length, encoded.TotalMilliseconds, downtime.Elapsed.TotalMilliseconds);

            // The VM runs on the target now; this copy goes without an exit report.
            await DropAsync();
            logger.LogInformation("VM {Vm} moved from {Host} to {Target}; downtime {Downtime} ms", VmName, Host, targetHost, downtime.Elapsed.TotalMilliseconds);
            return new MigrationSwitchOverReport(pages, bytes + handover.Snapshot.Length, downtime.Elapsed);
        }
        catch
        {
            // The target did not take over: the guest carries on here as if nothing happened.
            if (ReferenceEquals(_run, run))
            {
                run.Moving = false;
                worker.SetThrottle(0);
                worker.Resume();
            }

            throw;
        }
    }

    public Task CancelOutgoingAsync()
    {
        _dirtyScratch = null;
        if (_run is { Arriving: false } run)
            run.Worker.SetThrottle(0);
        return Task.CompletedTask;
    }

    private IVmWorkerGrain TargetWorker(string targetHost) => GrainFactory.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format(targetHost, VmName));

    private async Task<(long Pages, long ZeroPages, long Bytes)> SendPagesAsync(VmWorker worker, ulong[] pages, string targetHost, long maxBytesPerSecond)
    {
        IVmWorkerGrain target = TargetWorker(targetHost);
        var inFlight = new List<(Task Call, GuestPageBatch Batch)>(BatchesInFlight);
        long sent = 0, zero = 0, bytes = 0;
        var clock = Stopwatch.StartNew();
        using IEnumerator<GuestPageBatch> batches = GuestPageTransfer.Read(worker.Machine.Memory.Ram, pages, segmentPool: SegmentPool).GetEnumerator();
        while (true)
        {
            // Other turns of this grain run while we await the target (the guest's own end among
            // them): its machine may have been freed. Reading a batch is synchronous, so checking
            // right before is enough.
            if (_run?.Worker != worker)
                throw new HypervisorException($"VM '{VmName}' stopped running on host '{Host}' during its migration");
            if (inFlight.Count == BatchesInFlight)
                await CompleteOneAsync(inFlight);
            if (!batches.MoveNext())
                break;
            GuestPageBatch batch = batches.Current;
            inFlight.Add((target.ReceivePagesAsync(new PageBatch(batch.Pages, batch.Segments, batch.ZeroPages), handover: null), batch));
            sent += batch.Pages.Length;
            zero += batch.ZeroPages.Length;
            bytes += batch.DataBytes + 8L * batch.PageCount;
            if (maxBytesPerSecond > 0)
            {
                // Stay under the bandwidth cap: wait until the time this many bytes are allowed to take.
                TimeSpan due = TimeSpan.FromSeconds((double)bytes / maxBytesPerSecond);
                if (due > clock.Elapsed)
                    await Task.Delay(due - clock.Elapsed);
            }
        }

        while (inFlight.Count > 0)
            await CompleteOneAsync(inFlight);
        return (sent, zero, bytes);
    }

    /// <summary>
    /// Waits for one batch in flight; once the target has it, its segments go back to the pool (a
    /// failed call keeps them: its message may still be on its way).
    /// </summary>
    private static async Task CompleteOneAsync(List<(Task Call, GuestPageBatch Batch)> inFlight)
    {
        Task done = await Task.WhenAny(inFlight.Select(f => f.Call));
        int index = inFlight.FindIndex(f => f.Call == done);
        GuestPageBatch batch = inFlight[index].Batch;
        inFlight.RemoveAt(index);
        await done;
        GuestPageTransfer.ReturnSegments(batch, SegmentPool);
    }

    private ulong[] DirtyScratch(VmWorker worker) => _dirtyScratch ??= new ulong[worker.Machine.DirtyPageWords];
}
