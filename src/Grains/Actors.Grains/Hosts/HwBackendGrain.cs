using System.Diagnostics;
using Actors.Grains.Placement;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Serialization;

namespace Actors.Grains.Hosts;

/// <summary>
/// The hardware of one host: the backend instance its VMs' workers run on and the ledger of the
/// host's guest memory. Pinned to its host, never moved and never collected, since the ledger
/// describes machines that live in this silo's memory.
/// </summary>
[HostPinnedPlacement]
[Immovable]
[KeepAlive]
public sealed class HwBackendGrain(
    IHypervisorBackend backend,
    ILocalSiloDetails localSilo,
    IOptions<HostMemoryOptions> memory,
    ILogger<HwBackendGrain> logger) : Grain, IHwBackendGrain
{
    // VM name → its admission. Insertion order does not matter; listings sort.
    private readonly Dictionary<string, Admission> _admitted = new(StringComparer.Ordinal);

    private string Host => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // dotnet/orleans#9685: a stale directory entry can activate us without asking our director.
        if (!string.Equals(localSilo.Name, Host, StringComparison.Ordinal))
        {
            this.DeactivateOnIdle();
            throw new HypervisorException($"the hardware of host '{Host}' cannot run on silo '{localSilo.Name}'");
        }

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
                serializer.Deserialize<MigrationHandover>(serializer.SerializeToArray(new MigrationHandover([1], 1)));
                logger.LogInformation("Warmed up the switch-over path on {Host} in {Elapsed} ms", Host, clock.Elapsed.TotalMilliseconds);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Warming up the switch-over path on {Host} failed", Host);
            }
        });
        return Task.CompletedTask;
    }

    public Task<HostInfo> GetInfoAsync()
    {
        var running = _admitted.Where(a => a.Value.Running).Select(a => a.Key).Order(StringComparer.Ordinal).ToList();
        return Task.FromResult(new HostInfo(Host, backend.Name, Environment.ProcessorCount, Budget, FreeBytes(), running, Advertised(backend.Capabilities)));
    }

    /// <summary>The backend's capabilities in the contract's words, for <c>hvctl host list</c> and placement.</summary>
    internal static HostCapabilities Advertised(BackendCapabilities capabilities)
    {
        var modes = new List<string>(3);
        if (capabilities.InterruptControllers.HasFlag(InterruptControllerMode.Userspace))
            modes.Add("userspace");
        if (capabilities.InterruptControllers.HasFlag(InterruptControllerMode.Split))
            modes.Add("split");
        if (capabilities.InterruptControllers.HasFlag(InterruptControllerMode.InKernel))
            modes.Add("in-kernel");
        return new HostCapabilities(capabilities.HardwareVirtualization, capabilities.DirtyPageTracking, modes, capabilities.MaxProcessorsPerMachine);
    }

    public Task AdmitAsync(string vmName, ulong memoryBytes)
    {
        if (_admitted.ContainsKey(vmName))
            throw new HypervisorException($"VM '{vmName}' is already on host '{Host}'");
        ulong free = FreeBytes();
        if (memoryBytes > free)
            throw new HypervisorException($"host '{Host}' has {free >> 20} MiB free; VM '{vmName}' needs {memoryBytes >> 20} MiB");
        _admitted.Add(vmName, new Admission(memoryBytes));
        return Task.CompletedTask;
    }

    public Task ReportRunningAsync(string vmName)
    {
        if (_admitted.TryGetValue(vmName, out Admission? admission))
            admission.Running = true;
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string vmName)
    {
        _admitted.Remove(vmName);
        return Task.CompletedTask;
    }

    private ulong Budget => memory.Value.BudgetBytes;

    private ulong FreeBytes()
    {
        ulong used = 0;
        foreach (Admission admission in _admitted.Values)
            used += admission.MemoryBytes;
        return used >= Budget ? 0 : Budget - used;
    }

    /// <summary>One VM's share of the host: reserved while it arrives or boots, running once its worker says so.</summary>
    private sealed class Admission(ulong memoryBytes)
    {
        public ulong MemoryBytes { get; } = memoryBytes;

        public bool Running { get; set; }
    }
}
