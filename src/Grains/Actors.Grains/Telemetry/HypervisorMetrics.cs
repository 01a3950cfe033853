using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Worker;

namespace Actors.Grains.Telemetry;

/// <summary>
/// The silo's own instruments on the meter <see cref="MeterName"/>, named after OpenTelemetry's semantic conventions
/// (a unit on every instrument, durations in seconds, no unit in a name, <c>disk.io.direction</c> and
/// <c>network.io.direction</c> where those fit) and <c>actors.*</c> for the rest; docs/operations.md lists them all.
/// Tags name kinds (exit reason, VM state),
/// never VMs: per-VM series would grow without bound as VMs come and go. Disks are the exception:
/// an operator watches each disk's load, and disks are few and long-lived, as hosts are. So are
/// virtual switches and their ports: finding the VM that floods a network takes its port, and a port
/// lasts as long as its VM's adapter, across moves and restarts.
/// </summary>
public sealed class HypervisorMetrics : IDisposable
{
    public const string MeterName = "Actors.Hypervisor";

    // A disk answers from its page cache in microseconds and from a busy device in up to seconds.
    private static readonly double[] DiskLatencyBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Meter _meter;
    private readonly Counter<long> _consoleBytes;
    private readonly Counter<long> _diskOperations;
    private readonly Counter<long> _diskBytes;
    private readonly Histogram<double> _diskLatency;
    private readonly Counter<long> _switchFrames;
    private readonly Counter<long> _switchBytes;
    private readonly Counter<long> _switchDropped;
    private readonly ConcurrentDictionary<VmWorker, byte> _workers = new();

    // Totals of runs that have ended. Observations add the live counters of running machines; one lock
    // moves a machine from live to ended, so a series never goes backwards.
    private readonly Lock _totalsLock = new();
    private readonly Dictionary<string, long> _endedExits = new();
    private long _endedInstructions;
    private readonly Dictionary<(string Call, string Status), long> _endedHypercalls = new();
    private readonly Dictionary<string, long> _endedVmBusMessages = new();
    private long _endedVmBusSignals;

    public HypervisorMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _meter.CreateObservableCounter("actors.vcpu.exits", ObserveExits, "{exit}", "vCPU exits on this silo's hardware, by reason (actors.vcpu_exit_reason)");
        _meter.CreateObservableCounter("actors.vcpu.instructions_retired", ObserveInstructions, "{instruction}", "Guest instructions retired on this silo's hardware");
        _consoleBytes = _meter.CreateCounter<long>("actors.console.output", "By", "Serial console output published to subscribers");
        _meter.CreateObservableUpDownCounter("actors.vm.count", ObserveWorkers, "{vm}", "VMs on this silo's hardware, by state (actors.vm_state)");
        _meter.CreateObservableCounter("actors.hypercalls", ObserveHypercalls, "{call}", "Hypercalls made by guests on this silo's hardware, by call and status (actors.hypercall, actors.hypercall_status)");
        _meter.CreateObservableCounter("actors.vmbus.messages", ObserveVmBusMessages, "{message}", "VMBus channel messages posted by guests on this silo's hardware, by type (actors.vmbus_message_type)");
        _meter.CreateObservableCounter("actors.vmbus.signals", ObserveVmBusSignals, "{signal}", "VMBus channel signals (HvSignalEvent) from guests on this silo's hardware");
        _diskOperations = _meter.CreateCounter<long>("actors.disk.operations", "{operation}", "SCSI commands guests on this silo's hardware sent to their disks, by disk and operation (read, write, flush, other)");
        _diskBytes = _meter.CreateCounter<long>("actors.disk.io", "By", "Bytes guests on this silo's hardware read from and wrote to their disks, by disk and disk.io.direction");
        _diskLatency = _meter.CreateHistogram("actors.disk.operation.duration", "s", "Time from a guest's SCSI command reaching its storage VSP to the disk's answer, by disk and operation",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DiskLatencyBuckets });
        _switchFrames = _meter.CreateCounter<long>("actors.switch.frames", "{frame}", "Ethernet frames virtual switches on this silo carried, by switch, port and network.io.direction (receive: from the VM, transmit: delivered to it)");
        _switchBytes = _meter.CreateCounter<long>("actors.switch.io", "By", "Bytes of the Ethernet frames virtual switches on this silo carried, by switch, port and network.io.direction");
        _switchDropped = _meter.CreateCounter<long>("actors.switch.dropped", "{frame}", "Ethernet frames virtual switches on this silo dropped, by switch and reason (malformed, unplugged, spoofed, port_full, undelivered)");
    }

    /// <summary>Frames a switch port carried in one batch; <paramref name="inbound"/>: from its VM to the switch.</summary>
    public void SwitchFrames(string switchName, string port, bool inbound, int frames, long bytes)
    {
        var switchTag = new KeyValuePair<string, object?>("actors.switch", switchName);
        var portTag = new KeyValuePair<string, object?>("actors.switch_port", port);
        var directionTag = new KeyValuePair<string, object?>("network.io.direction", inbound ? "receive" : "transmit");
        _switchFrames.Add(frames, switchTag, portTag, directionTag);
        _switchBytes.Add(bytes, switchTag, portTag, directionTag);
    }

    public void SwitchDropped(string switchName, string reason, int frames) =>
        _switchDropped.Add(frames, new KeyValuePair<string, object?>("actors.switch", switchName), new KeyValuePair<string, object?>("actors.drop_reason", reason));

    /// <summary>One SCSI command a guest sent to <paramref name="disk"/>, as the VM's storage VSP saw it answered.</summary>
    public void DiskCommand(string disk, byte opcode, int bytesRead, int bytesWritten, TimeSpan took)
    {
        var diskTag = new KeyValuePair<string, object?>("actors.disk", disk);
        string operation = opcode switch
        {
            0x08 or 0x28 or 0x88 => "read",
            0x0A or 0x2A or 0x8A => "write",
            0x35 or 0x91 => "flush",
            _ => "other",
        };
        var operationTag = new KeyValuePair<string, object?>("actors.disk_operation", operation);
        _diskOperations.Add(1, diskTag, operationTag);
        if (bytesRead > 0)
            _diskBytes.Add(bytesRead, diskTag, new KeyValuePair<string, object?>("disk.io.direction", "read"));
        if (bytesWritten > 0)
            _diskBytes.Add(bytesWritten, diskTag, new KeyValuePair<string, object?>("disk.io.direction", "write"));
        _diskLatency.Record(took.TotalSeconds, diskTag, operationTag);
    }

    public void Track(VmWorker worker) => _workers.TryAdd(worker, 0);

    /// <summary>Moves a run's totals from live to ended once, when the machine goes away, so a stopped VM cannot be counted twice.</summary>
    public void RunEnded(VmWorker worker, ulong instructionsRetired, IEnumerable<KeyValuePair<string, long>> exitsByReason)
    {
        lock (_totalsLock)
        {
            if (!_workers.TryRemove(worker, out _))
                return;
            _endedInstructions += (long)instructionsRetired;
            foreach ((string reason, long count) in exitsByReason)
                _endedExits[reason] = _endedExits.GetValueOrDefault(reason) + count;
            AddHypercalls(_endedHypercalls, worker);
            AddVmBusMessages(_endedVmBusMessages, worker);
            _endedVmBusSignals += worker.VmBusSignals;
        }
    }

    private IEnumerable<Measurement<long>> ObserveHypercalls()
    {
        Dictionary<(string Call, string Status), long> totals;
        lock (_totalsLock)
        {
            totals = new(_endedHypercalls);
            foreach (VmWorker worker in _workers.Keys)
                AddHypercalls(totals, worker);
        }
        return totals.Select(t => new Measurement<long>(t.Value, new KeyValuePair<string, object?>("actors.hypercall", t.Key.Call), new KeyValuePair<string, object?>("actors.hypercall_status", t.Key.Status)));
    }

    private IEnumerable<Measurement<long>> ObserveVmBusMessages()
    {
        Dictionary<string, long> totals;
        lock (_totalsLock)
        {
            totals = new(_endedVmBusMessages);
            foreach (VmWorker worker in _workers.Keys)
                AddVmBusMessages(totals, worker);
        }
        return totals.Select(t => new Measurement<long>(t.Value, new KeyValuePair<string, object?>("actors.vmbus_message_type", t.Key)));
    }

    private long ObserveVmBusSignals()
    {
        lock (_totalsLock)
            return _endedVmBusSignals + _workers.Keys.Sum(w => w.VmBusSignals);
    }

    private static void AddHypercalls(Dictionary<(string Call, string Status), long> totals, VmWorker worker)
    {
        foreach ((string call, HvStatus status, long count) in worker.HypercallCounts())
            totals[(call, status.ToString())] = totals.GetValueOrDefault((call, status.ToString())) + count;
    }

    private static void AddVmBusMessages(Dictionary<string, long> totals, VmWorker worker)
    {
        foreach ((string type, long count) in worker.VmBusMessageCounts())
            totals[type] = totals.GetValueOrDefault(type) + count;
    }

    private long ObserveInstructions()
    {
        lock (_totalsLock)
        {
            long total = _endedInstructions;
            foreach (VmWorker worker in _workers.Keys)
                total += (long)worker.InstructionsRetired;
            return total;
        }
    }

    private IEnumerable<Measurement<long>> ObserveExits()
    {
        Dictionary<string, long> totals;
        lock (_totalsLock)
        {
            totals = new Dictionary<string, long>(_endedExits);
            foreach (VmWorker worker in _workers.Keys)
            {
                for (int i = 0; i < worker.ProcessorCount; i++)
                {
                    foreach ((string reason, long count) in worker.GetProcessor(i, includeRegisters: false).ExitsByReason)
                        totals[reason] = totals.GetValueOrDefault(reason) + count;
                }
            }
        }
        return totals.Select(t => new Measurement<long>(t.Value, new KeyValuePair<string, object?>("actors.vcpu_exit_reason", t.Key)));
    }

    public void ConsoleBytes(int count) => _consoleBytes.Add(count);

    private IEnumerable<Measurement<int>> ObserveWorkers() =>
        _workers.Keys
            .GroupBy(m => m.State)
            .Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("actors.vm_state", g.Key.ToString())));

    public void Dispose() => _meter.Dispose();
}
