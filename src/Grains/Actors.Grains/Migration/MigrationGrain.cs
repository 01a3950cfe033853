using Actors.Grains.Telemetry;
using Actors.HwBackend.Memory;
using Microsoft.Extensions.Logging;
using Orleans.Placement;

namespace Actors.Grains.Migration;

/// <summary>
/// One live migration, pre-copy: the source sends all RAM, then the pages dirtied during the previous
/// pass, until what is left would go within the downtime budget at the bandwidth the passes measured
/// (or the pass limit is reached). A guest that dirties memory faster than half the copy rate is
/// throttled, more each pass (<see cref="AutoConverge"/>).
/// The source itself ends the pass that leaves few enough pages with the switch-over: it stops the
/// guest, sends the rest and the machine state, and the target starts it. The loop runs in this activation, between calls, so the progress
/// can be read while it runs; every pass's progress is written to grain storage. It is placed on the
/// silo of the partition that starts it, so it shares the partition's fate rather than a host's.
/// </summary>
[PreferLocalPlacement]
public sealed class MigrationGrain(
    [PersistentState("migration", MigrationGrain.StorageName)] IPersistentState<MigrationRecord> record,
    MigrationMetrics metrics,
    ILogger<MigrationGrain> logger) : Grain, IMigrationGrain
{
    public const string StorageName = "vmstate";

    private const int PageSize = GuestRam.PageSize;

    private string Id => this.GetPrimaryKeyString();

    /// <summary>
    /// A record that has not ended, found when the grain activates: the activation that ran the loop
    /// (the only one that saves an unfinished record) died with its silo. The partition's host check
    /// looks at its migration every few seconds, and the catalog does when listed, so an orphan is
    /// found and settled soon after the loss.
    /// </summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (record.State.Status is { Ended: false })
            _ = SettleOrphanAsync(record.State.Status);
        return Task.CompletedTask;
    }

    public async Task<MigrationStatus> StartAsync(string vm, string source, string target, long memoryBytes, MigrationOptions options)
    {
        if (record.State.Status is not null)
            throw new HypervisorException($"migration '{Id}' has already started");
        record.State.Options = options;
        var status = new MigrationStatus(Id, vm, source, target, MigrationState.Copying, 0, memoryBytes / PageSize, 0, 0, 0, memoryBytes,
            DateTimeOffset.UtcNow, null, null, null);
        await SaveAsync(status);
        // The loop makes calls but receives none: keep idle collection from taking the activation
        // under it (a new activation would take the running migration for an orphan).
        DelayDeactivation(TimeSpan.FromHours(1));
        _ = RunAsync();
        return status;
    }

    public Task<MigrationStatus> GetStatusAsync()
    {
        if (record.State.Status is null)
        {
            // Asked about an id that never started: leave no empty activation behind.
            DeactivateOnIdle();
            throw new HypervisorException($"no migration '{Id}'");
        }

        return Task.FromResult(record.State.Status);
    }

    private async Task RunAsync()
    {
        MigrationStatus status = record.State.Status!;
        MigrationOptions options = record.State.Options!;
        IVmWorkerGrain source = Worker(status.Source, status.Vm);
        IVmWorkerGrain target = Worker(status.Target, status.Vm);
        try
        {
            long bytesSent = 0;
            double bytesPerSecond = 0;
            int throttle = 0;
            MigrationSwitchOverReport? final = null;
            for (int pass = 1; final is null; pass++)
            {
                // The source switches over by itself when the pass leaves few enough pages; the last pass allowed always does.
                long switchOverAt = pass >= options.MaxPasses ? long.MaxValue : PagesWithinBudget(bytesPerSecond, options.MaxDowntime);
                MigrationPassReport report = await source.SendPassAsync(status.Target, pass, options.MaxBandwidthBytesPerSecond, throttle, switchOverAt);
                final = report.SwitchOver;
                bytesSent += report.BytesSent;
                metrics.Sent(report.BytesSent);
                double seconds = Math.Max(report.Duration.TotalSeconds, 1e-6);
                if (report.BytesSent > 0)
                    bytesPerSecond = report.BytesSent / seconds;
                status = status with
                {
                    Pass = pass,
                    PagesRemaining = report.PagesDirtied,
                    DirtyPagesPerSecond = report.PagesDirtied / seconds,
                    BytesPerSecond = bytesPerSecond,
                    BytesSent = bytesSent,
                    ThrottlePercent = throttle,
                };
                logger.LogInformation("Migration {Id} pass {Pass}: {Pages} pages ({Zero} zero) in {Duration} ms, {Dirtied} dirtied meanwhile, throttle {Throttle}%",
                    Id, pass, report.PagesSent, report.ZeroPages, report.Duration.TotalMilliseconds, report.PagesDirtied, throttle);
                if (final is not null)
                    break;
                await SaveAsync(status);
                throttle = AutoConverge.Next(throttle, status.DirtyPagesPerSecond * PageSize, bytesPerSecond);
            }

            status = status with
            {
                State = MigrationState.Completed,
                BytesSent = status.BytesSent + final.BytesSent,
                PagesRemaining = 0,
                Downtime = final.Downtime,
                EndedAt = DateTimeOffset.UtcNow,
            };
            // The partition first: whoever sees "Completed" must find the VM on its new host.
            await TellPartitionAsync(status.Vm, status.Target);
            // Counted before the status says Completed, so that whoever sees it finds it counted.
            metrics.Sent(final.BytesSent);
            metrics.Completed(status.Elapsed, final.Downtime);
            await SaveAsync(status);
            logger.LogInformation("Migration {Id} of {Vm} from {Source} to {Target} completed in {Passes} passes; downtime {Downtime} ms",
                Id, status.Vm, status.Source, status.Target, status.Pass, final.Downtime.TotalMilliseconds);
        }
        catch (Exception e)
        {
            await FailAsync(status, target, e);
        }
    }

    /// <summary>
    /// Settles a migration whose coordinator was lost mid-way. The target's half-built copy is dropped
    /// first, so no switch-over can land after the check that follows; then the VM either runs on the
    /// target (the switch-over had completed: Completed, downtime unknown) or it does not (Failed: it
    /// runs on at the source, or, if the source died too, its partition reports it lost).
    /// </summary>
    private async Task SettleOrphanAsync(MigrationStatus status)
    {
        logger.LogWarning("Migration {Id} of {Vm} lost its coordinator in pass {Pass}; settling it", Id, status.Vm, status.Pass);
        IVmWorkerGrain target = Worker(status.Target, status.Vm);
        bool arrived;
        try
        {
            await target.AbortIncomingAsync();
            arrived = await target.IsRunningAsync();
        }
        catch (Exception e)
        {
            logger.LogInformation("Target {Target} of orphaned migration {Id} did not answer: {Reason}", status.Target, Id, e.Message);
            arrived = false;
        }

        if (!arrived)
        {
            await FailAsync(status, target, new HypervisorException($"the migration's coordinator was lost with its silo during pass {status.Pass}"));
            return;
        }

        status = status with { State = MigrationState.Completed, PagesRemaining = 0, EndedAt = DateTimeOffset.UtcNow, Reason = "its coordinator was lost after the switch-over; the downtime was not recorded" };
        await TellPartitionAsync(status.Vm, status.Target);
        metrics.Completed(status.Elapsed, downtime: null);
        await SaveAsync(status);
    }

    /// <summary>
    /// The migration failed. If the switch-over never reached the target, the VM still runs on the
    /// source (the source resumes it when the target fails during the switch-over) and the target's
    /// half-built copy is dropped; a source that died took the VM with it, and the partition says so.
    /// </summary>
    private async Task FailAsync(MigrationStatus status, IVmWorkerGrain target, Exception error)
    {
        string reason = error is HypervisorException ? error.Message : $"{error.GetType().Name}: {error.Message}";
        logger.LogWarning("Migration {Id} of {Vm} from {Source} to {Target} failed: {Reason}", Id, status.Vm, status.Source, status.Target, reason);
        try
        {
            await target.AbortIncomingAsync();
        }
        catch (Exception abort)
        {
            logger.LogInformation("Target {Target} could not drop the incoming copy of {Vm}: {Reason}", status.Target, status.Vm, abort.Message);
        }

        try
        {
            await Worker(status.Source, status.Vm).CancelOutgoingAsync();
        }
        catch (Exception cancel)
        {
            logger.LogInformation("Source {Source} could not stop throttling {Vm}: {Reason}", status.Source, status.Vm, cancel.Message);
        }

        await TellPartitionAsync(status.Vm, newHost: null);
        status = status with { State = MigrationState.Failed, Reason = reason, EndedAt = DateTimeOffset.UtcNow };
        metrics.Failed(status.Elapsed);
        await SaveAsync(status);
    }

    private IVmWorkerGrain Worker(string host, string vm) => GrainFactory.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format(host, vm));

    private async Task TellPartitionAsync(string vm, string? newHost)
    {
        try
        {
            await GrainFactory.GetGrain<IPartitionGrain>(vm).MigrationEndedAsync(Id, newHost);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not tell partition {Vm} that migration {Id} ended", vm, Id);
        }
    }

    /// <summary>
    /// How many dirty pages may be left for the stop-and-copy, at most one batch. They get a quarter of
    /// the budget: pausing the vCPUs, the state, the target's restore and the messages take about
    /// 5-10 ms of a 20 ms budget on our hosts, whatever is left to copy, and the budget is a limit, not a
    /// mean. The passes measure throughput with several batches in flight; the last pages travel in
    /// one message, which goes at about half that rate.
    /// </summary>
    private static long PagesWithinBudget(double bytesPerSecond, TimeSpan maxDowntime)
    {
        double singleMessageBytesPerSecond = bytesPerSecond / 2;
        long pages = (long)(singleMessageBytesPerSecond * maxDowntime.TotalSeconds / 4 / PageSize);
        return Math.Min(pages, GuestPageTransfer.MaxBatchBytes / PageSize);
    }

    private async Task SaveAsync(MigrationStatus status)
    {
        record.State.Status = status;
        await record.WriteStateAsync();
        try
        {
            await GrainFactory.GetGrain<IMigrationCatalogGrain>(0).UpsertAsync(status);
        }
        catch (Exception e) when (SiloLoss.IsTransient(e))
        {
            // The catalog's silo is going; the migration goes on, and the catalog asks for the status when listed.
            logger.LogInformation("Migration {Id}: the catalog did not take its status ({Reason})", Id, e.Message);
        }
    }
}
