using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Actors.HwBackend.Hosting;

namespace Actors.Grains.Telemetry;

/// <summary>
/// The silo's own instruments on the meter <see cref="MeterName"/>. Tags name kinds (exit reason, VM state),
/// never VMs: per-VM series would grow without bound as VMs come and go.
/// </summary>
public sealed class HypervisorMetrics : IDisposable
{
    public const string MeterName = "Actors.Hypervisor";

    private readonly Meter _meter;
    private readonly Counter<long> _exits;
    private readonly Counter<long> _instructions;
    private readonly Counter<long> _consoleBytes;
    private readonly ConcurrentDictionary<VirtualMachineHost, byte> _machines = new();

    public HypervisorMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _exits = _meter.CreateCounter<long>("actors.vcpu.exits", "{exit}", "vCPU exits, by reason, counted when a VM's run ends");
        _instructions = _meter.CreateCounter<long>("actors.vcpu.instructions_retired", "{instruction}", "Guest instructions retired, counted when a VM's run ends");
        _consoleBytes = _meter.CreateCounter<long>("actors.console.bytes", "By", "Serial console bytes published to subscribers");
        _meter.CreateObservableGauge("actors.vms", ObserveMachines, "{vm}", "VMs on this silo's hardware, by state");
    }

    public void Track(VirtualMachineHost machine) => _machines.TryAdd(machine, 0);

    /// <summary>Records a run's totals once, when the machine goes away, so a stopped VM cannot be counted twice.</summary>
    public void RunEnded(VirtualMachineHost machine, ulong instructionsRetired, IEnumerable<KeyValuePair<string, long>> exitsByReason)
    {
        if (!_machines.TryRemove(machine, out _))
            return;
        _instructions.Add((long)instructionsRetired);
        foreach ((string reason, long count) in exitsByReason)
            _exits.Add(count, new KeyValuePair<string, object?>("reason", reason));
    }

    public void ConsoleBytes(int count) => _consoleBytes.Add(count);

    private IEnumerable<Measurement<int>> ObserveMachines() =>
        _machines.Keys
            .GroupBy(m => m.State)
            .Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("state", g.Key.ToString())));

    public void Dispose() => _meter.Dispose();
}
