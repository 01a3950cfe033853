using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Actors.HwBackend.Worker;

namespace Actors.Grains.Telemetry;

/// <summary>
/// The silo's own instruments on the meter <see cref="MeterName"/>. Tags name kinds (exit reason, VM state),
/// never VMs: per-VM series would grow without bound as VMs come and go.
/// </summary>
public sealed class HypervisorMetrics : IDisposable
{
    public const string MeterName = "Actors.Hypervisor";

    private readonly Meter _meter;
    private readonly Counter<long> _consoleBytes;
    private readonly ConcurrentDictionary<VmWorker, byte> _machines = new();

    // Totals of runs that have ended. Observations add the live counters of running machines; one lock
    // moves a machine from live to ended, so a series never goes backwards.
    private readonly Lock _totalsLock = new();
    private readonly Dictionary<string, long> _endedExits = new();
    private long _endedInstructions;

    public HypervisorMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _meter.CreateObservableCounter("actors.vcpu.exits", ObserveExits, "{exit}", "vCPU exits on this silo's hardware, by reason");
        _meter.CreateObservableCounter("actors.vcpu.instructions_retired", ObserveInstructions, "{instruction}", "Guest instructions retired on this silo's hardware");
        _consoleBytes = _meter.CreateCounter<long>("actors.console.bytes", "By", "Serial console bytes published to subscribers");
        _meter.CreateObservableGauge("actors.vms", ObserveMachines, "{vm}", "VMs on this silo's hardware, by state");
    }

    public void Track(VmWorker machine) => _machines.TryAdd(machine, 0);

    /// <summary>Moves a run's totals from live to ended once, when the machine goes away, so a stopped VM cannot be counted twice.</summary>
    public void RunEnded(VmWorker machine, ulong instructionsRetired, IEnumerable<KeyValuePair<string, long>> exitsByReason)
    {
        lock (_totalsLock)
        {
            if (!_machines.TryRemove(machine, out _))
                return;
            _endedInstructions += (long)instructionsRetired;
            foreach ((string reason, long count) in exitsByReason)
                _endedExits[reason] = _endedExits.GetValueOrDefault(reason) + count;
        }
    }

    private long ObserveInstructions()
    {
        lock (_totalsLock)
        {
            long total = _endedInstructions;
            foreach (VmWorker machine in _machines.Keys)
                total += (long)machine.InstructionsRetired;
            return total;
        }
    }

    private IEnumerable<Measurement<long>> ObserveExits()
    {
        Dictionary<string, long> totals;
        lock (_totalsLock)
        {
            totals = new Dictionary<string, long>(_endedExits);
            foreach (VmWorker machine in _machines.Keys)
            {
                for (int i = 0; i < machine.ProcessorCount; i++)
                {
                    foreach ((string reason, long count) in machine.GetProcessor(i, includeRegisters: false).ExitsByReason)
                        totals[reason] = totals.GetValueOrDefault(reason) + count;
                }
            }
        }
        return totals.Select(t => new Measurement<long>(t.Value, new KeyValuePair<string, object?>("reason", t.Key)));
    }

    public void ConsoleBytes(int count) => _consoleBytes.Add(count);

    private IEnumerable<Measurement<int>> ObserveMachines() =>
        _machines.Keys
            .GroupBy(m => m.State)
            .Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("state", g.Key.ToString())));

    public void Dispose() => _meter.Dispose();
}
