using System.Diagnostics;
using Actors.Grains.Placement;
using Actors.Grains.Telemetry;
using Actors.HwBackend.VmBus.IntegrationServices;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;

namespace Actors.Grains.Partitions;

/// <summary>
/// A VM: its configuration, lifecycle and placement. The machine itself runs in the VM's worker on the
/// chosen host; this grain decides and remembers, the worker executes.
/// </summary>
public sealed partial class PartitionGrain(
    [PersistentState("partition", PartitionGrain.StorageName)] IPersistentState<PartitionRecord> record,
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    ILogger<PartitionGrain> logger) : Grain, IPartitionGrain
{
    public const string StorageName = "vmstate";

    /// <summary>How often a running VM's partition checks that its host is still in the cluster.</summary>
    public static readonly TimeSpan HostCheckPeriod = TimeSpan.FromSeconds(2);

    private IGrainTimer? _hostCheck;

    private string Name => this.GetPrimaryKeyString();

    private PartitionRecord State => record.State;

    public Task<VmStatus> CreateAsync(VmConfiguration configuration)
    {
        if (Exists)
            throw new HypervisorException($"VM '{Name}' already exists ({State.State}); delete it first or replace it", HypervisorRefusal.AlreadyExists);
        return DefineAsync(configuration);
    }

    public Task<VmStatus> ReplaceAsync(VmConfiguration configuration)
    {
        if (Exists)
            LifecycleRules.EnsureCanReplace(Name, State.State);
        return DefineAsync(configuration);
    }

    private async Task<VmStatus> DefineAsync(VmConfiguration configuration)
    {
        if (configuration.Validate() is { } problem)
            throw new HypervisorException($"VM '{Name}': {problem}");
        // Refused now rather than at its first start: a VM no host can run is a mistake the user should hear of at once.
        if (configuration.Backend is { Required: true } required && required.RefusalAmong(Name, await LiveHostsAsync()) is { } none)
            throw new HypervisorException(none);

        record.State = new PartitionRecord { Configuration = configuration, State = VmState.Defined };
        return await SaveAsync();
    }

    public async Task<VmStatus> StartAsync()
    {
        LifecycleRules.EnsureCanStart(Name, Existing().State);
        VmConfiguration configuration = State.Configuration!;
        string host = HostChooser.Choose(Name, configuration, await LiveHostsAsync());

        State.State = VmState.Starting;
        State.Host = host;
        State.FailureReason = null;
        State.ExitStatus = null;
        State.EndReason = null;
        State.InstructionsRetired = 0;
        State.ConsoleBytes = 0;
        State.Unimplemented = null;
        State.Heartbeat = null;
        State.IntegrationServices = null;
        State.RestartRequested = false;
        await SaveAsync();
        try
        {
            await Worker(host).StartAsync(configuration);
        }
        catch (Exception e)
        {
            State.State = VmState.Failed;
            State.FailureReason = e.Message;
            await SaveAsync();
            throw e as HypervisorException ?? new HypervisorException($"VM '{Name}' could not start on host '{host}': {e.Message}", e);
        }

        State.State = VmState.Running;
        State.StartedAt = DateTimeOffset.UtcNow;
        VmStatus status = await SaveAsync();
        WatchHost();
        await PlaceProcessorsAsync(host, configuration.ProcessorCount);
        return status;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        WatchHost();
        return Task.CompletedTask;
    }

    public async Task<VmStatus> StopAsync()
    {
        await DetectLostHostAsync();
        LifecycleRules.EnsureCanStop(Name, Existing().State);
        EnsureNotMigrating("stopped");
        if (State.Host is { } host)
        {
            await CaptureCountersAsync(host);
            await Worker(host).StopAsync();
        }

        State.State = VmState.Off;
        State.ExitStatus = null;
        ForgetIntegrationServices();
        return await SaveAsync();
    }

    public async Task<VmStatus> PauseAsync()
    {
        await DetectLostHostAsync();
        LifecycleRules.EnsureCanPause(Name, Existing().State);
        EnsureNotMigrating("paused");
        await Worker(State.Host!).PauseAsync();
        State.State = VmState.Paused;
        return await SaveAsync();
    }

    public async Task<VmStatus> ResumeAsync()
    {
        await DetectLostHostAsync();
        LifecycleRules.EnsureCanResume(Name, Existing().State);
        await Worker(State.Host!).ResumeAsync();
        State.State = VmState.Running;
        return await SaveAsync();
    }

    public async Task<VmStatus> ShutdownAsync(GuestShutdownKind kind)
    {
        await DetectLostHostAsync();
        LifecycleRules.EnsureCanAskGuest(Name, Existing().State);
        EnsureNotMigrating(kind == GuestShutdownKind.Restart ? "restarted" : "shut down");
        using Activity? span = HypervisorTracing.Start(kind == GuestShutdownKind.Restart ? "GuestRestart" : "GuestShutdown", Name, State.Host!);
        // Recorded before asking: a guest that restarts at once may end its run before the answer is back here.
        State.RestartRequested = kind == GuestShutdownKind.Restart;
        await SaveAsync();
        try
        {
            await GrainFactory.GetGrain<IShutdownVspGrain>(Name).RequestAsync(State.Host!, kind);
        }
        catch
        {
            State.RestartRequested = false;
            await SaveAsync();
            throw;
        }
        return State.ToStatus(Name);
    }

    public async Task SetGuestValueAsync(string key, string value)
    {
        await DetectLostHostAsync();
        LifecycleRules.EnsureCanAskGuest(Name, Existing().State);
        if (!await Worker(State.Host!).PushGuestValueAsync(key, value))
            throw new HypervisorException($"VM '{Name}': {KvpService.MaxQueuedPushes} key/value pairs already wait for the guest (is its hv_kvp_daemon running?)");
    }

    public async Task DeleteAsync()
    {
        LifecycleRules.EnsureCanDelete(Name, Existing().State);
        await record.ClearStateAsync();
        record.State = new PartitionRecord();
        await GrainFactory.GetGrain<IVmCatalogGrain>(0).RemoveAsync(Name);
        this.DeactivateOnIdle();
    }

    public async Task<VmStatus> GetStatusAsync()
    {
        Existing();
        await DetectLostHostAsync();
        if (State.State is VmState.Running or VmState.Paused && State.Host is { } host)
            await CaptureCountersAsync(host);
        return State.ToStatus(Name);
    }

    public Task SendConsoleInputAsync(byte[] data)
    {
        LifecycleRules.EnsureHasConsole(Name, Existing().State);
        return Worker(State.Host!).SendConsoleInputAsync(data);
    }

    public async Task ReportExitAsync(VmExited exit)
    {
        if (!Exists || !LifecycleRules.AcceptsExitReport(State.State))
            return;
        logger.LogInformation("VM {Vm} ended on {Host}: {Reason}, exit status {Status}", Name, State.Host, exit.Reason, exit.ExitStatus);
        State.State = exit.Failed ? VmState.Failed : VmState.Off;
        // A guest that ended mid-migration ends the migration too; its coordinator reports the failure.
        State.MigrationId = null;
        State.FailureReason = exit.Failed ? exit.Reason : null;
        State.ExitStatus = exit.ExitStatus;
        State.EndReason = exit.Reason;
        State.InstructionsRetired = exit.InstructionsRetired;
        State.ConsoleBytes = exit.ConsoleBytes;
        State.Unimplemented = exit.Unimplemented;
        ForgetIntegrationServices();
        bool restart = State.RestartRequested && exit.Reason.StartsWith(ResetReasonPrefix, StringComparison.Ordinal);
        State.RestartRequested = false;
        await SaveAsync();
        if (restart)
        {
            // Not awaited: the worker that reported this is waiting for us, and the restart needs it.
            // The call is queued behind this turn, as a user's 'vm start' would be.
            this.AsReference<IPartitionGrain>().StartAsync().Ignore();
        }
    }

    /// <summary>What the integration services said lives with the run: a VM that is off has no heartbeat to show.</summary>
    private void ForgetIntegrationServices() => (State.Heartbeat, State.IntegrationServices) = (null, null);

    /// <summary>How a guest's reset begins its end reason (VmWorker's convention).</summary>
    private const string ResetReasonPrefix = "reset";

    public async Task<string> MigrateAsync(string targetHost, MigrationOptions options)
    {
        if (options.Validate() is { } problem)
            throw new HypervisorException($"VM '{Name}' cannot migrate: {problem}");
        await DetectLostHostAsync();
        PartitionRecord state = Existing();
        if (state.State != VmState.Running)
            throw new HypervisorException($"VM '{Name}' cannot migrate: it is {state.State}, not Running");
        if (state.MigrationId is { } current)
            throw new HypervisorException($"VM '{Name}' is already migrating (migration '{current}')");
        string source = state.Host!;
        if (string.Equals(targetHost, source, StringComparison.Ordinal))
            throw new HypervisorException($"VM '{Name}' already runs on host '{targetHost}'");
        if (HostSilos.Find(membership.CurrentSnapshot, targetHost) is null)
            throw new HypervisorException($"VM '{Name}' cannot migrate: no host '{targetHost}' in the cluster");

        VmConfiguration configuration = state.Configuration!;
        if (configuration.Backend is { Required: true })
        {
            HostInfo target = await GrainFactory.GetGrain<IRootPartitionGrain>(targetHost).GetInfoAsync();
            if (BackendRules.RefusalOn(configuration, targetHost, target.Backend) is { } refusal)
                throw new HypervisorException($"VM '{Name}' cannot migrate to host '{targetHost}': {refusal}");
        }

        // The target reserves the memory now, so a host without room refuses before anything moves.
        await Worker(targetHost).PrepareIncomingAsync(configuration);
        string id = $"{Name}-{DateTimeOffset.UtcNow:yyyyMMddHHmmssfff}";
        state.MigrationId = id;
        await SaveAsync();
        try
        {
            await GrainFactory.GetGrain<IMigrationGrain>(id).StartAsync(Name, source, targetHost, (long)configuration.MemoryBytes, options);
        }
        catch
        {
            state.MigrationId = null;
            await SaveAsync();
            await Worker(targetHost).AbortIncomingAsync();
            throw;
        }

        logger.LogInformation("VM {Vm} migrating from {Source} to {Target} as {Migration}", Name, source, targetHost, id);
        return id;
    }

    public async Task MigrationEndedAsync(string migrationId, string? newHost)
    {
        if (!Exists || State.MigrationId != migrationId)
            return;
        State.MigrationId = null;
        if (newHost is not null && State.State is VmState.Running or VmState.Paused)
            State.Host = newHost;
        await SaveAsync();
        if (newHost is null)
            return;

        // The VM's grains follow its hardware (Orleans live grain migration): the processors first,
        // then this partition once the call returns; its state moves with it and its host-check timer
        // is registered again on activation.
        for (int i = 0; i < State.Configuration!.ProcessorCount; i++)
            await GrainFactory.GetGrain<IVirtualProcessorGrain>(VirtualProcessorKey.Format(Name, i)).FollowHardwareAsync(newHost);
        if (HostSilos.Find(membership.CurrentSnapshot, newHost) is { } silo && !silo.Equals(localSilo.SiloAddress))
        {
            RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
            this.MigrateOnIdle();
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    private void EnsureNotMigrating(string what)
    {
        if (State.MigrationId is { } id)
            throw new HypervisorException($"VM '{Name}' cannot be {what} while it migrates (migration '{id}')");
    }

    /// <summary>
    /// While the VM runs somewhere, checks on a timer that its host is still an active silo: a host that
    /// dies takes the VM's memory with it, and the VM must then say so rather than claim to be running.
    /// </summary>
    private void WatchHost()
    {
        if (_hostCheck is not null || !Exists || !RunsOnAHost(State.State))
            return;
        _hostCheck = this.RegisterGrainTimer(
            async _ =>
            {
                await DetectLostHostAsync();
                await CheckMigrationAsync();
                if (!RunsOnAHost(State.State))
                {
                    _hostCheck?.Dispose();
                    _hostCheck = null;
                }
            },
            (object?)null,
            new GrainTimerCreationOptions(HostCheckPeriod, HostCheckPeriod) { Interleave = false, KeepAlive = true });
    }

    /// <summary>
    /// Looks in on the migration under way, if any. Its coordinator tells this partition when it ends;
    /// looking also wakes a coordinator whose silo died (it then settles itself) and catches an end
    /// whose report was lost.
    /// </summary>
    private async Task CheckMigrationAsync()
    {
        if (State.MigrationId is not { } id)
            return;
        MigrationStatus status;
        try
        {
            status = await GrainFactory.GetGrain<IMigrationGrain>(id).GetStatusAsync();
        }
        catch (HypervisorException e)
        {
            // Its record is gone (it was in a dead silo's memory storage): nothing will ever end it.
            logger.LogWarning("VM {Vm}: migration {Migration} has no record ({Reason}); the VM stays on {Host}", Name, id, e.Message, State.Host);
            await MigrationEndedAsync(id, newHost: null);
            return;
        }

        if (status.Ended)
            await MigrationEndedAsync(id, status.State == MigrationState.Completed ? status.Target : null);
    }

    private static bool RunsOnAHost(VmState state) => state is VmState.Starting or VmState.Running or VmState.Paused or VmState.Stopping;

    /// <summary>Marks the VM Failed when the silo of its host is no longer active; true when it did.</summary>
    private async Task<bool> DetectLostHostAsync()
    {
        if (!Exists || !RunsOnAHost(State.State) || State.Host is not { } host || HostSilos.Find(membership.CurrentSnapshot, host) is not null)
            return false;
        logger.LogWarning("VM {Vm} was {State} on host {Host}, which left the cluster", Name, State.State, host);
        State.FailureReason = $"host '{host}' left the cluster while the VM was {State.State}; the VM's memory went with it (start it again to boot it on another host)";
        State.State = VmState.Failed;
        await SaveAsync();
        return true;
    }

    private bool Exists => record.State.Configuration is not null;

    private PartitionRecord Existing() => Exists ? State : throw new HypervisorException(LifecycleRules.UnknownVm(Name));

    private IVmWorkerGrain Worker(string host) => GrainFactory.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format(host, Name));

    /// <summary>Writes the record and tells the catalog, so every change is visible in one place.</summary>
    private async Task<VmStatus> SaveAsync()
    {
        await record.WriteStateAsync();
        VmStatus status = State.ToStatus(Name);
        await GrainFactory.GetGrain<IVmCatalogGrain>(0).UpsertAsync(status);
        return status;
    }

    private async Task<IReadOnlyCollection<HostInfo>> LiveHostsAsync()
    {
        IReadOnlyList<string> hosts = await GrainFactory.GetGrain<IHostCatalogGrain>(0).ListAsync();
        var infos = new List<HostInfo>();
        foreach (string host in hosts)
        {
            try
            {
                infos.Add(await GrainFactory.GetGrain<IRootPartitionGrain>(host).GetInfoAsync());
            }
            catch (Exception e)
            {
                // A host that just left still sits in the catalog for a moment; it simply is not a candidate.
                logger.LogWarning(e, "Host {Host} did not report its inventory", host);
            }
        }

        return infos;
    }

    private async Task CaptureCountersAsync(string host)
    {
        try
        {
            VmCounters counters = await Worker(host).GetCountersAsync();
            (State.InstructionsRetired, State.ConsoleBytes, State.Unimplemented, State.Heartbeat, State.IntegrationServices, State.CpuTier) =
                (counters.InstructionsRetired, counters.ConsoleBytes, counters.Unimplemented, counters.Heartbeat, counters.IntegrationServices, counters.CpuTier);
        }
        catch (HypervisorException)
        {
            // The run ended and its exit report is on its way; keep the last counters we saw.
        }
    }

    /// <summary>Activates the processors on their hardware's silo; the hint only matters when an activation is placed.</summary>
    private async Task PlaceProcessorsAsync(string host, int processorCount)
    {
        if (HostSilos.Find(membership.CurrentSnapshot, host) is not { } silo)
            return;
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        try
        {
            for (int i = 0; i < processorCount; i++)
                await GrainFactory.GetGrain<IVirtualProcessorGrain>(VirtualProcessorKey.Format(Name, i)).GetStatusAsync(includeRegisters: false);
        }
        catch (HypervisorException)
        {
            // The guest already ended; the processors were placed all the same.
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }
}
