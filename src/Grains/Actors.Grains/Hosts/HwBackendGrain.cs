using System.Diagnostics;
using Actors.Grains.Images;
using Actors.Grains.Placement;
using Actors.Grains.Telemetry;
using Actors.Grains.Worker;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Serialization;
using Orleans.Streams;

namespace Actors.Grains.Hosts;

/// <summary>
/// The hardware of one host. Machines and their vCPU threads live in this activation's memory, which is why
/// it is pinned to its host, never moved and never collected.
/// </summary>
[HostPinnedPlacement]
[Immovable]
[KeepAlive]
public sealed partial class HwBackendGrain(
    IHypervisorBackend backend,
    ILocalSiloDetails localSilo,
    IOptions<HostMemoryOptions> memory,
    HypervisorMetrics metrics,
    ILogger<HwBackendGrain> logger) : Grain, IHwBackendGrain
{
    private static readonly TimeSpan ShutdownReportTimeout = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, HostedMachine> _machines = new(StringComparer.Ordinal);
    private TaskScheduler? _scheduler;

    private string Host => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // dotnet/orleans#9685: a stale directory entry can activate us without asking our director.
        if (!string.Equals(localSilo.Name, Host, StringComparison.Ordinal))
        {
            this.DeactivateOnIdle();
            throw new HypervisorException($"the hardware of host '{Host}' cannot run on silo '{localSilo.Name}'");
        }

        _scheduler = TaskScheduler.Current;
        // Off the grain's turn: a migration arriving meanwhile just pays the cold path itself.
        _ = Task.Run(() =>
        {
            try
            {
                var clock = Stopwatch.StartNew();
                SwitchOverWarmup.Run(backend);
                MigrationPathPrejit.Run();
                // The handover's codec, too: the passes never carry one.
                Serializer serializer = ServiceProvider.GetRequiredService<Serializer>();
                serializer.Deserialize<MachineHandover>(serializer.SerializeToArray(new MachineHandover([1], 1)));
                logger.LogInformation("Warmed up the switch-over path on {Host} in {Elapsed} ms", Host, clock.Elapsed.TotalMilliseconds);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Warming up the switch-over path on {Host} failed", Host);
            }
        });
        return Task.CompletedTask;
    }

    /// <summary>
    /// Only a silo shutdown gets here ([KeepAlive], [Immovable]). The machines die with the silo, so their
    /// partitions are told the VM failed rather than left believing it still runs.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var reports = new List<Task>();
        foreach (string vmName in _machines.Keys.ToList())
        {
            ulong retired = _machines[vmName].InstructionsRetired;
            await StopPartitionAsync(vmName);
            reports.Add(ReportExitAsync(vmName, new VmExited($"host '{Host}' shut down ({reason.ReasonCode})", null, Failed: true, retired)));
        }

        // Bounded: a partition on a silo that is going down too must not hold this shutdown for a whole call timeout.
        try
        {
            await Task.WhenAll(reports).WaitAsync(ShutdownReportTimeout, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("Partitions on {Host} were not all told of the shutdown within {Timeout}", Host, ShutdownReportTimeout);
        }
    }

    public Task<HostInfo> GetInfoAsync() => Task.FromResult(Info());

    public async Task StartPartitionAsync(string vmName, VmConfiguration configuration)
    {
        using Activity? span = HypervisorTracing.Start("StartPartition", vmName, Host);
        if (_machines.ContainsKey(vmName))
            throw new HypervisorException($"VM '{vmName}' is already running on host '{Host}'");
        EnsureMemoryFor(vmName, configuration);

        byte[] image = await ImageFetcher.FetchAsync(GrainFactory.GetGrain<IImageStoreGrain>(configuration.ImageId), configuration.ImageId);
        var console = new ConsolePump();
        VmWorker machine = CreateMachine(vmName, configuration, image, console);
        await RunMachineAsync(vmName, configuration, machine, console);

        logger.LogInformation("Started VM {Vm} on {Host}: {Memory} bytes, {Processors} vCPUs, {Backend}", vmName, Host, configuration.MemoryBytes, configuration.ProcessorCount, backend.Name);
    }

    /// <summary>Refuses, with one line, a VM that needs more memory than this host has free.</summary>
    private void EnsureMemoryFor(string vmName, VmConfiguration configuration)
    {
        HostInfo info = Info();
        if (configuration.MemoryBytes > info.MemoryFreeBytes)
            throw new HypervisorException($"host '{Host}' has {info.MemoryFreeBytes >> 20} MiB free; VM '{vmName}' needs {configuration.MemoryBytes >> 20} MiB");
    }

    /// <summary>Starts a created (or restored) machine's vCPUs and its console stream, and tracks it as running here.</summary>
    private async Task RunMachineAsync(string vmName, VmConfiguration configuration, VmWorker machine, ConsolePump console, Task? drained = null, ulong earlierInstructions = 0)
    {
        drained ??= StartConsoleDrain(vmName, console);
        var hosted = new HostedMachine(machine, configuration, console, drained, earlierInstructions);
        _machines.Add(vmName, hosted);
        metrics.Track(machine);
        try
        {
            machine.Start();
        }
        catch (Exception e)
        {
            _machines.Remove(vmName);
            await ReleaseAsync(hosted);
            throw new HypervisorException($"VM '{vmName}' could not start on host '{Host}': {e.Message}", e);
        }
    }

    /// <summary>Starts publishing what the console pump collects on the VM's console stream.</summary>
    private Task StartConsoleDrain(string vmName, ConsolePump console)
    {
        IAsyncStream<ConsoleOutput> stream = this.GetStreamProvider(ConsoleStreams.Provider)
            .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, vmName));
        return console.DrainAsync(batch => PublishAsync(stream, batch));
    }

    public async Task StopPartitionAsync(string vmName)
    {
        if (!_machines.Remove(vmName, out HostedMachine? hosted))
            return;
        using Activity? span = HypervisorTracing.Start("StopPartition", vmName, Host);
        // Stop joins the vCPU threads; that wait belongs on the thread pool, not on the grain's turn.
        await Task.Run(hosted.Machine.Stop);
        await ReleaseAsync(hosted);
        logger.LogInformation("Stopped VM {Vm} on {Host}", vmName, Host);
    }

    public Task PausePartitionAsync(string vmName) => Run(vmName, m => m.Pause());

    public Task ResumePartitionAsync(string vmName) => Run(vmName, m => m.Resume());

    public Task PauseProcessorAsync(string vmName, int index) => Run(vmName, m => m.PauseProcessor(CheckIndex(vmName, m, index)));

    public Task ResumeProcessorAsync(string vmName, int index) => Run(vmName, m => m.ResumeProcessor(CheckIndex(vmName, m, index)));

    public Task<VpStatus> GetProcessorStatusAsync(string vmName, int index, bool includeRegisters)
    {
        VmWorker machine = Machine(vmName);
        ProcessorSnapshot snapshot = machine.GetProcessor(CheckIndex(vmName, machine, index), includeRegisters);
        return Task.FromResult(ProcessorStatusMapper.ToStatus(vmName, Host, snapshot));
    }

    public Task<(ulong InstructionsRetired, long ConsoleBytes)> GetPartitionCountersAsync(string vmName)
    {
        HostedMachine hosted = Hosted(vmName);
        return Task.FromResult((hosted.InstructionsRetired, hosted.Machine.ConsoleBytes));
    }

    public Task SendConsoleInputAsync(string vmName, byte[] data) => Run(vmName, m => m.SendConsoleInput(data));

    /// <summary>A machine with the image loaded, or (null image) an empty one to restore a migrating VM into.</summary>
    private VmWorker CreateMachine(string vmName, VmConfiguration configuration, byte[]? image, ConsolePump console)
    {
        try
        {
            Action<VmRunEnded> onEnded = ended => PostToGrain(() => OnRunEndedAsync(vmName, console, ended));
            Dictionary<string, byte[]>? files = configuration.FirmwareFiles?.ToDictionary(f => f.Key, f => System.Text.Encoding.UTF8.GetBytes(f.Value), StringComparer.Ordinal);
            return image is null
                ? VmWorker.CreateForRestore(backend, vmName, configuration.MemoryBytes, configuration.ProcessorCount, console, onEnded, files)
                : VmWorker.Create(backend, vmName, image, configuration.MemoryBytes, configuration.ProcessorCount, console, onEnded, files);
        }
        catch (GuestImageException e)
        {
            throw new HypervisorException($"image '{configuration.ImageName ?? configuration.ImageId}' cannot boot: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new HypervisorException($"VM '{vmName}' cannot run on backend '{backend.Name}': {e.Message}");
        }
    }

    /// <summary>The guest ended by itself (called back from a vCPU thread, posted onto this activation).</summary>
    private async Task OnRunEndedAsync(string vmName, ConsolePump console, VmRunEnded ended)
    {
        // A stop or a new run may have replaced this machine while the report was queued: then it is stale.
        if (!_machines.TryGetValue(vmName, out HostedMachine? hosted) || !ReferenceEquals(hosted.Console, console))
            return;
        _machines.Remove(vmName);
        using Activity? span = HypervisorTracing.Start("RunEnded", vmName, Host);
        span?.SetTag("actors.exit_reason", ended.Reason);
        await Task.Run(hosted.Machine.Stop);
        await ReleaseAsync(hosted);
        logger.LogInformation("VM {Vm} on {Host} ended: {Reason}, exit status {Status}", vmName, Host, ended.Reason, ended.ExitStatus);
        await ReportExitAsync(vmName, new VmExited(ended.Reason, ended.ExitStatus, ended.Failed, hosted.EarlierInstructions + ended.InstructionsRetired, hosted.Machine.ConsoleBytes));
    }

    private async Task ReportExitAsync(string vmName, VmExited exit)
    {
        try
        {
            await GrainFactory.GetGrain<IPartitionGrain>(vmName).ReportExitAsync(exit);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not report the end of VM {Vm} to its partition", vmName);
        }
    }

    /// <summary>Frees a stopped machine after its last console bytes have been published.</summary>
    private async Task ReleaseAsync(HostedMachine hosted)
    {
        hosted.Console.Complete();
        await hosted.ConsoleDrained;
        var exits = new Dictionary<string, long>();
        for (int i = 0; i < hosted.Machine.ProcessorCount; i++)
        {
            foreach ((string reason, long count) in hosted.Machine.GetProcessor(i, includeRegisters: false).ExitsByReason)
                exits[reason] = exits.GetValueOrDefault(reason) + count;
        }

        metrics.RunEnded(hosted.Machine, hosted.Machine.InstructionsRetired, exits);
        hosted.Machine.Dispose();
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
        _ = Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.None, scheduler).Unwrap();
    }

    private HostInfo Info()
    {
        ulong used = 0;
        foreach (HostedMachine hosted in _machines.Values)
            used += hosted.Configuration.MemoryBytes;
        foreach (IncomingMachine incoming in _incoming.Values)
            used += incoming.Configuration.MemoryBytes;
        ulong budget = memory.Value.BudgetBytes;
        return new HostInfo(Host, backend.Name, Environment.ProcessorCount, budget, used >= budget ? 0 : budget - used,
            _machines.Keys.Order(StringComparer.Ordinal).ToList());
    }

    private Task Run(string vmName, Action<VmWorker> action)
    {
        try
        {
            action(Machine(vmName));
        }
        catch (InvalidOperationException e)
        {
            // The machine refuses an operation its state does not allow, e.g. the guest ended a moment ago.
            throw new HypervisorException($"VM '{vmName}' on host '{Host}': {e.Message}");
        }

        return Task.CompletedTask;
    }

    private VmWorker Machine(string vmName) => Hosted(vmName).Machine;

    private HostedMachine Hosted(string vmName) =>
        _machines.TryGetValue(vmName, out HostedMachine? hosted)
            ? hosted
            : throw new HypervisorException($"VM '{vmName}' is not running on host '{Host}'");

    private static int CheckIndex(string vmName, VmWorker machine, int index) =>
        index >= 0 && index < machine.ProcessorCount
            ? index
            : throw new HypervisorException($"VM '{vmName}' has no vCPU {index} (it has {machine.ProcessorCount})");
}
