using System.Buffers;
using System.Diagnostics;
using Actors.Grains.Telemetry;
using Actors.Grains.Worker;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Worker;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Hosts;

/// <summary>
/// Both ends of a live migration's data path. The source pushes pages straight to the target's
/// backend grain, several batches in flight; the coordinator only says when to do a pass and when
/// to switch over, so guest memory never passes through a third silo.
/// </summary>
public sealed partial class HwBackendGrain
{
    /// <summary>Page batches a source keeps in flight to its target.</summary>
    private const int BatchesInFlight = 4;

    private readonly Dictionary<string, IncomingMachine> _incoming = new(StringComparer.Ordinal);

    // Page data segments of outgoing batches, reused once the target has them: at hundreds of MiB/s,
    // fresh arrays would make the source (whose guest runs meanwhile) collect garbage every few ms.
    private readonly ArrayPool<byte> _segmentPool = ArrayPool<byte>.Create(GuestPageTransfer.PagesPerSegment * GuestRam.PageSize, 4 * BatchesInFlight * GuestPageTransfer.PagesPerSegment);

    // Scratch for one dirty-log collection per migrating VM (one bit per RAM page).
    private readonly Dictionary<string, ulong[]> _dirtyScratch = new(StringComparer.Ordinal);

    public Task PrepareIncomingAsync(string vmName, VmConfiguration configuration)
    {
        if (_machines.ContainsKey(vmName) || _incoming.ContainsKey(vmName))
            throw new HypervisorException($"VM '{vmName}' is already on host '{Host}'");
        EnsureMemoryFor(vmName, configuration);
        var console = new ConsolePump();
        VmWorker machine = CreateMachine(vmName, configuration, image: null, console);
        machine.PrepareThreads();
        _incoming.Add(vmName, new IncomingMachine(machine, configuration, console, StartConsoleDrain(vmName, console)));
        logger.LogInformation("Preparing to receive VM {Vm} on {Host}", vmName, Host);
        return Task.CompletedTask;
    }

    public async Task ReceivePagesAsync(string vmName, PageBatch batch, MachineHandover? handover)
    {
        IncomingMachine incoming = Incoming(vmName);
        try
        {
            GuestPageTransfer.Write(incoming.Machine.Machine.Memory.Ram, new GuestPageBatch(batch.Pages, batch.Segments, batch.ZeroPages));
        }
        catch (ArgumentException e)
        {
            throw new HypervisorException($"VM '{vmName}' on host '{Host}': {e.Message}");
        }

        if (handover is not null)
            await StartIncomingAsync(vmName, incoming, handover);
    }

    /// <summary>The switch-over's last step: the machine state arrived with the last pages; continue the guest here.</summary>
    private async Task StartIncomingAsync(string vmName, IncomingMachine incoming, MachineHandover handover)
    {
        _incoming.Remove(vmName);
        var clock = Stopwatch.StartNew();
        try
        {
            incoming.Machine.RestoreSnapshot(handover.MachineState);
        }
        catch (Exception e)
        {
            // Whatever went wrong, the half-built machine must not keep its RAM and parked vCPU threads.
            incoming.Console.Complete();
            incoming.Machine.Dispose();
            if (e is SnapshotException or InvalidOperationException)
                throw new HypervisorException($"VM '{vmName}' cannot be restored on host '{Host}': {e.Message}");
            throw;
        }

        TimeSpan restored = clock.Elapsed;
        await RunMachineAsync(vmName, incoming.Configuration, incoming.Machine, incoming.Console, incoming.ConsoleDrained, handover.InstructionsRetired);
        logger.LogInformation("VM {Vm} arrived on {Host} and runs: restored in {Restored} ms, running after {Running} ms", vmName, Host, restored.TotalMilliseconds, clock.Elapsed.TotalMilliseconds);
    }

    public Task AbortIncomingAsync(string vmName)
    {
        if (_incoming.Remove(vmName, out IncomingMachine? incoming))
        {
            incoming.Console.Complete();
            incoming.Machine.Dispose();
            logger.LogInformation("Dropped incoming VM {Vm} on {Host}", vmName, Host);
        }

        return Task.CompletedTask;
    }

    public async Task<MigrationPassReport> SendPassAsync(string vmName, string targetHost, int pass, long maxBytesPerSecond, int throttlePercent, long switchOverAtPages)
    {
        using Activity? span = HypervisorTracing.Start("MigrationPass", vmName, Host);
        VmWorker machine = Machine(vmName);
        machine.SetThrottle(Math.Clamp(throttlePercent, 0, 99));
        ulong[] dirty = DirtyScratch(vmName, machine);
        var clock = Stopwatch.StartNew();
        // Collect first, always: it re-arms dirty tracking, so a page written while it is being
        // copied is dirty again next pass. On pass 1 everything goes regardless.
        machine.Machine.CollectDirtyPages(dirty);
        if (pass == 1)
            Array.Fill(dirty, ulong.MaxValue);
        (long pages, long zero, long bytes) = await SendPagesAsync(vmName, machine, dirty, targetHost, maxBytesPerSecond);
        TimeSpan duration = clock.Elapsed;
        long dirtied = (long)machine.Machine.Memory.DirtyLog.CountDirty();
        MigrationSwitchOverReport? switchOver = dirtied <= switchOverAtPages
            ? await SwitchOverAsync(vmName, targetHost)
            : null;
        return new MigrationPassReport(pages, zero, bytes, duration, dirtied, switchOver);
    }

    /// <summary>
    /// The stop-and-copy: stops the vCPUs, sends the last dirty pages and the machine state, has the
    /// target start, and frees the machine here. If the target fails, the VM resumes here and this throws.
    /// </summary>
    private async Task<MigrationSwitchOverReport> SwitchOverAsync(string vmName, string targetHost)
    {
        using Activity? span = HypervisorTracing.Start("MigrationSwitchOver", vmName, Host);
        HostedMachine hosted = Hosted(vmName);
        VmWorker machine = hosted.Machine;
        ulong[] dirty = DirtyScratch(vmName, machine);
        IHwBackendGrain target = GrainFactory.GetGrain<IHwBackendGrain>(targetHost);
        var downtime = Stopwatch.StartNew();
        // Pause waits (briefly: each vCPU parks at its next block boundary) on this turn: a hop to the
        // thread pool here costs milliseconds of downtime on a busy host.
        machine.Pause();
        try
        {
            TimeSpan paused = downtime.Elapsed;
            machine.Machine.CollectDirtyPages(dirty);
            // What fits one batch rides with the machine state (one round trip less while the guest
            // is stopped); a larger remainder (a forced switch-over) goes ahead in batches.
            GuestRam ram = machine.Machine.Memory.Ram;
            bool oneBatch = GuestPageTransfer.Count(dirty, ram.PageCount) <= GuestPageTransfer.MaxBatchBytes / GuestRam.PageSize;
            GuestPageBatch final = oneBatch
                ? GuestPageTransfer.Read(ram, dirty).FirstOrDefault() ?? GuestPageBatch.Empty
                : GuestPageBatch.Empty;
            long pages = final.Pages.Length, bytes = final.DataBytes;
            if (!oneBatch)
                (pages, _, bytes) = await SendPagesAsync(vmName, machine, dirty, targetHost, maxBytesPerSecond: 0);
            TimeSpan copied = downtime.Elapsed;
            var handover = new MachineHandover(machine.SaveSnapshot(), hosted.InstructionsRetired);
            TimeSpan encoded = downtime.Elapsed;
            await target.ReceivePagesAsync(vmName, new PageBatch(final.Pages, final.Segments, final.ZeroPages), handover);
            downtime.Stop();
            logger.LogInformation("Switch-over of {Vm}: paused after {Paused} ms, {Pages} pages copied by {Copied} ms, state ({StateBytes} bytes) encoded by {Encoded} ms, target running at {Total} ms",
                vmName, paused.TotalMilliseconds, pages, copied.TotalMilliseconds, handover.MachineState.Length, encoded.TotalMilliseconds, downtime.Elapsed.TotalMilliseconds);

            // The VM runs on the target now; this copy goes without an exit report.
            _machines.Remove(vmName);
            _dirtyScratch.Remove(vmName);
            await Task.Run(machine.Stop);
            await ReleaseAsync(hosted);
            logger.LogInformation("VM {Vm} moved from {Host} to {Target}; downtime {Downtime} ms", vmName, Host, targetHost, downtime.Elapsed.TotalMilliseconds);
            return new MigrationSwitchOverReport(pages, bytes + handover.MachineState.Length, downtime.Elapsed);
        }
        catch
        {
            // The target did not take over: the guest carries on here as if nothing happened.
            if (_machines.ContainsKey(vmName))
            {
                machine.SetThrottle(0);
                machine.Resume();
            }
            throw;
        }
    }

    public Task CancelOutgoingAsync(string vmName)
    {
        _dirtyScratch.Remove(vmName);
        if (_machines.TryGetValue(vmName, out HostedMachine? hosted))
            hosted.Machine.SetThrottle(0);
        return Task.CompletedTask;
    }

    private async Task<(long Pages, long ZeroPages, long Bytes)> SendPagesAsync(string vmName, VmWorker machine, ulong[] pages, string targetHost, long maxBytesPerSecond)
    {
        IHwBackendGrain target = GrainFactory.GetGrain<IHwBackendGrain>(targetHost);
        var inFlight = new List<(Task Call, GuestPageBatch Batch)>(BatchesInFlight);
        long sent = 0, zero = 0, bytes = 0;
        var clock = Stopwatch.StartNew();
        using IEnumerator<GuestPageBatch> batches = GuestPageTransfer.Read(machine.Machine.Memory.Ram, pages, segmentPool: _segmentPool).GetEnumerator();
        while (true)
        {
            // Other turns of this grain run while we await the target: the guest may have ended and
            // its machine been freed. Reading a batch is synchronous, so checking right before is enough.
            if (!_machines.TryGetValue(vmName, out HostedMachine? current) || !ReferenceEquals(current.Machine, machine))
                throw new HypervisorException($"VM '{vmName}' stopped running on host '{Host}' during its migration");
            if (inFlight.Count == BatchesInFlight)
                await CompleteOneAsync(inFlight);
            if (!batches.MoveNext())
                break;
            GuestPageBatch batch = batches.Current;
            inFlight.Add((target.ReceivePagesAsync(vmName, new PageBatch(batch.Pages, batch.Segments, batch.ZeroPages), handover: null), batch));
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
    private async Task CompleteOneAsync(List<(Task Call, GuestPageBatch Batch)> inFlight)
    {
        Task done = await Task.WhenAny(inFlight.Select(f => f.Call));
        int index = inFlight.FindIndex(f => f.Call == done);
        GuestPageBatch batch = inFlight[index].Batch;
        inFlight.RemoveAt(index);
        await done;
        GuestPageTransfer.ReturnSegments(batch, _segmentPool);
    }

    private ulong[] DirtyScratch(string vmName, VmWorker machine)
    {
        if (!_dirtyScratch.TryGetValue(vmName, out ulong[]? scratch))
        {
            scratch = new ulong[machine.Machine.Memory.DirtyLog.WordCount];
            _dirtyScratch.Add(vmName, scratch);
        }

        return scratch;
    }

    private IncomingMachine Incoming(string vmName) =>
        _incoming.TryGetValue(vmName, out IncomingMachine? incoming)
            ? incoming
            : throw new HypervisorException($"no migration of VM '{vmName}' is arriving on host '{Host}'");
}
