using System.Diagnostics;
using System.Globalization;
using Actors.Grains.Disks;
using Actors.Grains.Images;
using Actors.Grains.Partitions;
using Actors.Grains.Placement;
using Actors.Grains.Telemetry;
using Actors.Grains.VmBus;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Storage;
using Actors.HwBackend.VmBus.IntegrationServices;
using Actors.HwBackend.VmBus.Network;
using Actors.HwBackend.Worker;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Streams;

namespace Actors.Grains.Worker;

/// <summary>
/// The worker of one VM on one host (Hyper-V's VMWP): the VM's machine (a <see cref="VmWorker"/>:
/// guest RAM, devices, one OS thread per vCPU), its console stream, and its end of a live migration.
/// The machine lives in this activation's memory, which is why the grain is pinned to its host and
/// never moved; it stays alive while it holds a machine and deactivates once it holds none.
/// </summary>
[HostPinnedPlacement]
[Immovable]
[KeepAlive]
public sealed partial class VmWorkerGrain(
    IHypervisorBackend backend,
    ILocalSiloDetails localSilo,
    HypervisorMetrics metrics,
    ILogger<VmWorkerGrain> logger) : Grain, IVmWorkerGrain
{
    private static readonly TimeSpan ShutdownReportTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a guest has to answer its shutdown integration service.</summary>
    private static readonly TimeSpan GuestAnswerTimeout = TimeSpan.FromSeconds(10);

    // The machine and what goes with it; null while this worker holds none. A run that is arriving
    // by migration is here too, with Arriving set, until its switch-over starts it.
    private Run? _run;
    private TaskScheduler? _scheduler;

    // Work posted onto this activation from a vCPU thread is not a grain call, so Orleans would deactivate
    // an activation that looks idle under it (and the guest's exit report would be lost): count it.
    private int _postedWork;

    // A start under way, between its first await and its machine: posted work that ends meanwhile
    // (the previous run's exit report, whose partition asked for this start) must not deactivate us.
    private bool _starting;

    private string Host { get; set; } = "";

    private string VmName { get; set; } = "";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (Host, VmName) = VmWorkerKey.Parse(this.GetPrimaryKeyString());
        // dotnet/orleans#9685: a stale directory entry can activate us without asking our director.
        if (!string.Equals(localSilo.Name, Host, StringComparison.Ordinal))
        {
            this.DeactivateOnIdle();
            throw new HypervisorException($"the worker of VM '{VmName}' on host '{Host}' cannot run on silo '{localSilo.Name}'");
        }

        _scheduler = TaskScheduler.Current;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Only a silo shutdown gets here while a machine is held ([KeepAlive], [Immovable]). The machine dies with
    /// the silo, so the partition is told the VM failed rather than left believing it still runs.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_run is not { Arriving: false } run)
        {
            await DropAsync();
            return;
        }

        ulong retired = run.InstructionsRetired;
        await DropAsync();
        // Bounded: a partition on a silo that is going down too must not hold this shutdown for a whole call timeout.
        try
        {
            await ReportExitAsync(new VmExited($"host '{Host}' shut down ({reason.ReasonCode})", null, Failed: true, retired))
                .WaitAsync(ShutdownReportTimeout, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("The partition of {Vm} was not told of the shutdown of {Host} within {Timeout}", VmName, Host, ShutdownReportTimeout);
        }
    }

    public async Task StartAsync(VmConfiguration configuration)
    {
        using Activity? span = HypervisorTracing.Start("StartPartition", VmName, Host);
        if (_run is not null || _starting)
            throw new HypervisorException($"VM '{VmName}' is already on host '{Host}'");
        _starting = true;
        await HostHardware.AdmitAsync(VmName, configuration.MemoryBytes);
        try
        {
            byte[] image = await ImageFetcher.FetchAsync(GrainFactory.GetGrain<IImageStoreGrain>(configuration.ImageId), configuration.ImageId);
            byte[] initrd = configuration.InitrdId is { } initrdId
                ? await ImageFetcher.FetchAsync(GrainFactory.GetGrain<IImageStoreGrain>(initrdId), initrdId)
                : [];
            Run run = CreateRun(configuration, await AttachDisksAsync(configuration), image, initrd);
            await StartRunAsync(run);
        }
        catch
        {
            await HostHardware.ReleaseAsync(VmName);
            throw;
        }
        finally
        {
            _starting = false;
            DeactivateIfEmpty(); // a start that failed leaves nothing to keep
        }

        logger.LogInformation("Started VM {Vm} on {Host}: {Memory} bytes, {Processors} vCPUs, {Backend}", VmName, Host, configuration.MemoryBytes, configuration.ProcessorCount, backend.Name);
    }

    public async Task StopAsync()
    {
        if (_run is null)
        {
            DeactivateIfEmpty();
            return;
        }

        using Activity? span = HypervisorTracing.Start("StopPartition", VmName, Host);
        await DropAsync();
        logger.LogInformation("Stopped VM {Vm} on {Host}", VmName, Host);
    }

    public Task PauseAsync() => Control(w => w.Pause());

    public Task ResumeAsync() => Control(w => w.Resume());

    public Task PauseProcessorAsync(int index) => Control(w => w.PauseProcessor(CheckIndex(w, index)));

    public Task ResumeProcessorAsync(int index) => Control(w => w.ResumeProcessor(CheckIndex(w, index)));

    public Task<VpStatus> GetProcessorStatusAsync(int index, bool includeRegisters)
    {
        VmWorker worker = Running().Worker;
        ProcessorSnapshot snapshot = worker.GetProcessor(CheckIndex(worker, index), includeRegisters);
        return Task.FromResult(ProcessorStatusMapper.ToStatus(VmName, Host, snapshot));
    }

    public async Task<VmCounters> GetCountersAsync()
    {
        Run run = Running();
        VmWorker worker = run.Worker;
        string? heartbeat = run.HeartbeatRelay is not null ? await DescribeRelayedHeartbeatAsync(run) : worker.Heartbeat?.Describe();
        return new VmCounters(run.InstructionsRetired, worker.ConsoleBytes, UnimplementedLines(worker), heartbeat, IntegrationServiceLines(run, heartbeat),
            worker.CpuTier?.Describe(worker.InstructionsRetired));
    }

    /// <summary>
    /// "name: state" for each integration service and synthetic device (the SCSI controller, each
    /// network adapter, with what they refused of the guest), then what the guest reported through
    /// KVP; null for a VM without them.
    /// </summary>
    private static List<string>? IntegrationServiceLines(Run run, string? heartbeat)
    {
        VmWorker worker = run.Worker;
        if (worker.Heartbeat is null)
            return null;
        var lines = new List<string>
        {
            $"heartbeat: {heartbeat}",
            $"shutdown: {worker.Shutdown!.Describe()}",
            $"time sync: {worker.TimeSync!.Describe()}",
            $"kvp: {worker.Kvp!.Describe()}",
            $"scsi: {worker.Storage!.Requests} requests, {worker.Storage.Malformed} malformed",
        };
        for (int i = 0; i < worker.NetworkAdapters.Count; i++)
        {
            NetworkVsp nic = worker.NetworkAdapters[i];
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"nic{i}: {(nic.Ready ? "ready" : "not set up by the guest")}, link {(nic.LinkUp ? "up" : "down")}, {nic.TransmittedFrames} frames sent, {nic.ReceivedFrames} received, "
                + $"{nic.ReceiveDrops + run.Ports[i].Dropped} dropped, {nic.Malformed} malformed"));
        }
        IReadOnlyDictionary<string, string> reported = worker.Kvp.GuestValues;
        foreach ((string label, string key) in GuestReports)
        {
            // Guest text, shown on one line of a table: no control characters, and not a whole page of it.
            if (reported.TryGetValue(key, out string? value) && value.Length > 0)
                lines.Add($"{label}: {KvpService.Printable(value, longest: 200)}");
        }
        return lines;
    }

    /// <summary>The KVP auto-pool keys <c>vm show</c> reports, with their labels.</summary>
    private static readonly (string Label, string Key)[] GuestReports =
    [
        ("guest name", "FullyQualifiedDomainName"),
        ("guest os", "OSName"),
        ("guest os version", "OSVersion"),
        ("guest ipv4", "NetworkAddressIPv4"),
        ("guest ipv6", "NetworkAddressIPv6"),
    ];

    public Task<bool> PushGuestValueAsync(string key, string value)
    {
        if (Running().Worker.Kvp is not { } kvp)
            throw new HypervisorException($"VM '{VmName}' has no integration services (create it with --hyperv)");
        try
        {
            return Task.FromResult(kvp.Push(key, value));
        }
        catch (ArgumentException e)
        {
            throw new HypervisorException($"VM '{VmName}': {e.Message}");
        }
    }

    public async Task<GuestShutdownOutcome> RequestGuestShutdownAsync(GuestShutdownKind kind)
    {
        if (Running().Worker.Shutdown is not { } service)
            return GuestShutdownOutcome.NotEnlightened;
        using Activity? span = HypervisorTracing.Start("ShutdownChannel", VmName, Host);
        Task<ShutdownAnswer>? answer = service.Request(kind == GuestShutdownKind.Restart ? ShutdownKind.Restart : ShutdownKind.PowerOff);
        if (answer is null)
            return GuestShutdownOutcome.NoChannel;
        try
        {
            // A live guest answers at once (hv_utils answers before it starts shutting down); a stuck one must not hold this grain.
            ShutdownAnswer said = await answer.WaitAsync(GuestAnswerTimeout);
            span?.SetTag("actors.guest_answer", said.ToString());
            return said switch
            {
                ShutdownAnswer.Accepted => GuestShutdownOutcome.Accepted,
                ShutdownAnswer.Refused => GuestShutdownOutcome.Refused,
                _ => GuestShutdownOutcome.NoAnswer,
            };
        }
        catch (TimeoutException)
        {
            service.Abandon();
            return GuestShutdownOutcome.NoAnswer;
        }
    }

    public Task<bool> IsRunningAsync() => Task.FromResult(_run is { Arriving: false });

    public Task SendConsoleInputAsync(byte[] data) => Control(w => w.SendConsoleInput(data));

    private IHwBackendGrain HostHardware => GrainFactory.GetGrain<IHwBackendGrain>(Host);

    /// <summary>The host's backend, with the software CPU's tier the VM chose if it chose one (KVM has no tiers).</summary>
    private IHypervisorBackend BackendFor(VmConfiguration configuration) =>
        configuration.CpuTier is { } name && backend is EmulatorBackend emulator && CpuTierOptions.TryParseTier(name, out CpuTier tier)
            ? emulator.WithTier(tier)
            : backend;

    /// <summary>A machine with the image (and initrd) loaded, or (null image) an empty one to restore a migrating VM into.</summary>
    private Run CreateRun(VmConfiguration configuration, IReadOnlyList<IScsiLun?> disks, byte[]? image, byte[]? initrd = null)
    {
        // The partition placed it by what the hosts reported; this host's own backend has the last word.
        if (BackendRules.RefusalOn(configuration, Host, backend.Name) is { } refusal)
            throw new HypervisorException($"VM '{VmName}' cannot run on host '{Host}': {refusal}");
        ActivityContext startedBy = Activity.Current?.Context ?? default;
        using HypervisorTracing.DetachedScope detached = HypervisorTracing.Detach();
        var console = new ConsolePump();
        IReadOnlyList<SwitchUplink> ports = CreatePorts(configuration);
        VmWorker worker;
        try
        {
            Action<VmRunEnded> onEnded = ended => PostToGrain(() => OnRunEndedAsync(console, ended));
            Dictionary<string, byte[]>? files = configuration.FirmwareFiles?.ToDictionary(f => f.Key, f => System.Text.Encoding.UTF8.GetBytes(f.Value), StringComparer.Ordinal);
            IHypervisorBackend machines = BackendFor(configuration);
            worker = image is null
                ? VmWorker.CreateForRestore(machines, VmName, configuration.MemoryBytes, configuration.ProcessorCount, console, onEnded, files, configuration.Enlightened, disks, Adapters(ports))
                : VmWorker.Create(machines, VmName, image, configuration.MemoryBytes, configuration.ProcessorCount, console, onEnded, files, initrd, configuration.CommandLine, configuration.Enlightened, disks, Adapters(ports));
        }
        catch (GuestImageException e)
        {
            throw new HypervisorException($"image '{configuration.ImageName ?? configuration.ImageId}' cannot boot: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            // Not supported: what the VM needs that this host's backend lacks (e.g. more vCPUs than KVM allows here).
            throw new HypervisorException($"VM '{VmName}' cannot run on backend '{backend.Name}': {e.Message}");
        }

        // Once per VM, wherever it runs: the log travels with a migrating VM.
        worker.UnimplementedUsed += use => logger.LogWarning("VM {Vm} on {Host} used {What} (not implemented) at 0x{Address:x}", VmName, Host, use.Subject, use.FirstAddress);
        VmBusRelayPump? heartbeatRelay = configuration is { Enlightened: true, VspHost: { } vspHost } ? RelayHeartbeat(worker, vspHost) : null;
        return new Run(worker, configuration, console, StartConsoleDrain(console), heartbeatRelay, ports) { StartedBy = startedBy };
    }

    private static string[] UnimplementedLines(VmWorker worker)
    {
        IEnumerable<string> lines = worker.Unimplemented.Select(u => u.ToString());
        long overflow = worker.UnimplementedOverflow;
        return (overflow == 0 ? lines : lines.Append($"{overflow} more uses of other things, not listed")).ToArray();
    }

    /// <summary>Starts a created (or restored) machine's vCPUs and tells the host it runs here.</summary>
    private async Task StartRunAsync(Run run)
    {
        _run = run;
        run.Arriving = false;
        metrics.Track(run.Worker);
        try
        {
            using (HypervisorTracing.Detach())
                run.Worker.Start();
        }
        catch (Exception e)
        {
            await DropAsync();
            throw new HypervisorException($"VM '{VmName}' could not start on host '{Host}': {e.Message}", e);
        }

        await HostHardware.ReportRunningAsync(VmName);
        await PlugPortsAsync(run);
    }

    /// <summary>Starts publishing what the console pump collects on the VM's console stream.</summary>
    private Task StartConsoleDrain(ConsolePump console)
    {
        IAsyncStream<ConsoleOutput> stream = this.GetStreamProvider(ConsoleStreams.Provider)
            .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, VmName));
        return console.DrainAsync(batch => PublishAsync(stream, batch));
    }

    /// <summary>The guest ended by itself (called back from a vCPU thread, posted onto this activation).</summary>
    private async Task OnRunEndedAsync(ConsolePump console, VmRunEnded ended)
    {
        // A stop or a new run may have replaced this machine while the report was queued: then it is stale.
        if (_run is not { } run || !ReferenceEquals(run.Console, console))
            return;
        using Activity? span = HypervisorTracing.StartLinked("RunEnded", VmName, Host, run.StartedBy);
        span?.SetTag("actors.exit_reason", ended.Reason);
        await DropAsync();
        logger.LogInformation("VM {Vm} on {Host} ended: {Reason}, exit status {Status}", VmName, Host, ended.Reason, ended.ExitStatus);
        await ReportExitAsync(new VmExited(ended.Reason, ended.ExitStatus, ended.Failed, run.EarlierInstructions + ended.InstructionsRetired, run.Worker.ConsoleBytes, UnimplementedLines(run.Worker)));
    }

    private async Task ReportExitAsync(VmExited exit)
    {
        try
        {
            await GrainFactory.GetGrain<IPartitionGrain>(VmName).ReportExitAsync(exit);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not report the end of VM {Vm} to its partition", VmName);
        }
    }

    /// <summary>
    /// Lets go of the machine, if any: it is detached first (so no interleaved call finds a machine being
    /// freed), stopped off the grain's turn, its last console bytes published, and its memory returned
    /// to the host. The activation then goes once idle.
    /// </summary>
    private async Task DropAsync()
    {
        if (_run is not { } run)
            return;
        _run = null;
        _dirtyScratch = null;
        // Stop joins the vCPU threads; that wait belongs on the thread pool, not on the grain's turn.
        await Task.Run(run.Worker.Stop);
        run.Console.Complete();
        run.HeartbeatRelay?.Complete();
        if (!run.Arriving)
            await UnplugPortsAsync(run);
        await run.ConsoleDrained;
        if (!run.Arriving)
            metrics.RunEnded(run.Worker, run.Worker.InstructionsRetired, ExitsByReason(run.Worker));
        run.Worker.Dispose();
        try
        {
            await HostHardware.ReleaseAsync(VmName);
        }
        catch (Exception e)
        {
            // The host's ledger lives in this silo too; failing to reach it means the silo is going.
            logger.LogWarning(e, "Could not return the memory of VM {Vm} to host {Host}", VmName, Host);
        }

        DeactivateIfEmpty();
    }

    /// <summary>An activation holding no machine, starting none and doing no posted work goes once idle.</summary>
    private void DeactivateIfEmpty()
    {
        if (_run is null && _postedWork == 0 && !_starting)
            DeactivateOnIdle();
    }

    private static Dictionary<string, long> ExitsByReason(VmWorker worker)
    {
        var exits = new Dictionary<string, long>();
        for (int i = 0; i < worker.ProcessorCount; i++)
        {
            foreach ((string reason, long count) in worker.GetProcessor(i, includeRegisters: false).ExitsByReason)
                exits[reason] = exits.GetValueOrDefault(reason) + count;
        }

        return exits;
    }

    private async Task PublishAsync(IAsyncStream<ConsoleOutput> stream, ConsoleOutput batch)
    {
        try
        {
            await stream.OnNextAsync(batch);
            metrics.ConsoleBytes(batch.Data.Length);
        }
        catch (Exception e)
        {
            // Console output is best effort: a failed publish must not stop the drain or the VM.
            logger.LogWarning(e, "Could not publish {Bytes} console bytes", batch.Data.Length);
        }
    }

    private void PostToGrain(Func<Task> work)
    {
        TaskScheduler scheduler = _scheduler ?? throw new InvalidOperationException("not activated");
        _ = Task.Factory.StartNew(RunPostedAsync, CancellationToken.None, TaskCreationOptions.None, scheduler).Unwrap();

        async Task RunPostedAsync()
        {
            _postedWork++;
            try
            {
                await work();
            }
            finally
            {
                _postedWork--;
                DeactivateIfEmpty();
            }
        }
    }

    private Task Control(Action<VmWorker> action)
    {
        try
        {
            action(Running().Worker);
        }
        catch (InvalidOperationException e)
        {
            // The machine refuses an operation its state does not allow, e.g. the guest ended a moment ago.
            throw new HypervisorException($"VM '{VmName}' on host '{Host}': {e.Message}");
        }

        return Task.CompletedTask;
    }

    /// <summary>The run of a VM that runs here; anything else is a one-line error, and an empty activation goes away.</summary>
    private Run Running()
    {
        if (_run is { Arriving: false } run)
            return run;
        DeactivateIfEmpty();
        throw new HypervisorException($"VM '{VmName}' is not running on host '{Host}'");
    }

    private int CheckIndex(VmWorker worker, int index) =>
        index >= 0 && index < worker.ProcessorCount
            ? index
            : throw new HypervisorException($"VM '{VmName}' has no vCPU {index} (it has {worker.ProcessorCount})");

    /// <summary>
    /// The machine this worker holds, its configuration, the console drain feeding its stream, and the
    /// instructions the VM retired on earlier hosts (a migrated VM's counter continues).
    /// </summary>
    private sealed class Run(VmWorker worker, VmConfiguration configuration, ConsolePump console, Task consoleDrained, VmBusRelayPump? heartbeatRelay, IReadOnlyList<SwitchUplink> ports)
    {
        /// <summary>Carries the heartbeat channel to its VSP on another host's silo; null when this worker serves it.</summary>
        public VmBusRelayPump? HeartbeatRelay { get; } = heartbeatRelay;

        public VmWorker Worker { get; } = worker;

        public VmConfiguration Configuration { get; } = configuration;

        public ConsolePump Console { get; } = console;

        public Task ConsoleDrained { get; } = consoleDrained;

        /// <summary>An empty machine filling with pages by live migration; its vCPUs have not started.</summary>
        public bool Arriving { get; set; } = true;

        /// <summary>Stopped for the switch-over of a move: nothing more goes into its memory, which is on its way.</summary>
        public bool Moving { get; set; }

        /// <summary>The ports of its network adapters on their switches, by adapter index.</summary>
        public IReadOnlyList<SwitchUplink> Ports { get; } = ports;

        /// <summary>Plugs the ports in again now and then while it runs.</summary>
        public IGrainTimer? PortRefresh { get; set; }

        public ulong EarlierInstructions { get; set; }

        /// <summary>The span of the call that started (or received) this machine: where the span of its end links to.</summary>
        public ActivityContext StartedBy { get; init; }

        public ulong InstructionsRetired => EarlierInstructions + Worker.InstructionsRetired;
    }
}
