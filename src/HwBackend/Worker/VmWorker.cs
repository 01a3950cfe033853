using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Network;
using Actors.HwBackend.Platform;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Storage;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;
using Actors.HwBackend.VmBus.Network;
using Actors.HwBackend.VmBus.Storage;

namespace Actors.HwBackend.Worker;

/// <summary>
/// One VM on this host: the backend machine, its PC platform (<see cref="PcPlatform"/>: interrupt
/// controllers, timers, COM1, fw_cfg, firmware tables, isa-debug-exit) and one dedicated OS thread
/// per vCPU. This is what a host's backend grain owns; it knows nothing of Orleans.
/// <para>
/// Life cycle: <see cref="VmWorkerState.Created"/> → <see cref="Start"/> → Running ⇄ Paused →
/// Stopped. The guest ending by itself (debug-exit, a reset, triple fault, backend error) moves to
/// Stopped and calls <c>onEnded</c> exactly once, on the last vCPU thread to leave, after the
/// console is flushed and with no lock held. A requested <see cref="Stop"/> never calls it.
/// Control methods are thread-safe, but must not be called from the console sink.
/// </para>
/// <para>
/// Locks: device locks may be held while a device wakes a vCPU (which takes the host's gate), so
/// nothing here calls into a device while holding the gate.
/// </para>
/// </summary>
public sealed class VmWorker : IDisposable
{
    // Section ids of this worker's parts of a snapshot (the platform names its own): stable names,
    // since snapshots outlive builds.
    private const string MachineSection = "machine";
    private const string ConsoleSection = "console";
    private const string UnimplementedSection = "unimplemented";

    private readonly IVirtualMachine _machine;
    private readonly PcPlatform _platform;
    private readonly ConsoleOutputLog _console;
    private readonly UnimplementedLog _unimplemented;
    private readonly VmEnlightenments? _enlightenments;
    private readonly Action<VmRunEnded> _onEnded;
    private readonly VirtualProcessorThread[] _processors;
    private readonly string[] _processorSections;

    // The gate guards the state machine below and the guarded fields of every
    // VirtualProcessorThread; parked vCPU threads and waiting callers use it as a monitor.
    private readonly object _gate = new();
    private VmWorkerState _state = VmWorkerState.Created;
    private bool _started;
    private bool _threadsStarted;
    private bool _hostPaused;
    private bool _throttleParked;
    private readonly ProcessorThrottle _throttle;
    private bool _terminating;
    private bool _disposed;
    private bool _restored;
    private int _threadsExited;

    // Written under the gate when the guest ends by itself; read by the thread that reports it.
    private string? _endReason;
    private int? _endStatus;
    private bool _endFailed;
    private bool _endReported;

    /// <summary>The end reason of a guest that powered itself off through ACPI.</summary>
    public const string PowerOffReason = "acpi-poweroff";

    private VmWorker(string name, ulong memoryBytes, IVirtualMachine machine, PlatformClock clock, IConsoleOutputSink? console, Action<VmRunEnded> onEnded, IReadOnlyDictionary<string, byte[]>? firmwareFiles, bool enlightened, IReadOnlyList<IScsiLun?>? disks, IReadOnlyList<NetworkAdapter>? nics)
    {
        Name = name;
        MemoryBytes = memoryBytes;
        _machine = machine;
        _onEnded = onEnded;
        _console = new ConsoleOutputLog(console);
        _unimplemented = new UnimplementedLog(use => UnimplementedUsed?.Invoke(use));
        _processors = new VirtualProcessorThread[machine.Processors.Count];
        _processorSections = new string[_processors.Length];
        for (int i = 0; i < _processors.Length; i++)
        {
            _processors[i] = new VirtualProcessorThread(this, machine.Processors[i], i);
            _processorSections[i] = $"vcpu/{i}";
        }
        _platform = new PcPlatform(name, clock, machine, memoryBytes, _processors, _console, RequestGuestExit, RequestReset, RequestPowerOff, firmwareFiles, _unimplemented, vmBus: enlightened);
        _throttle = new ProcessorThrottle(ParkForThrottle, name);
        for (int i = 0; i < _processors.Length; i++)
        {
            // Application processors wait for INIT-SIPI from the bootstrap processor, as on hardware.
            _processors[i].Attach(_platform, _platform.LocalApics[i]);
            _processors[i].WaitingForStartup = i != 0;
            machine.Processors[i].AttachUnimplementedSink(_unimplemented);
        }

        if (enlightened)
            _enlightenments = new VmEnlightenments(machine, clock, _platform, RequestReset, disks ?? [], nics ?? []);
        else if (disks is { Count: > 0 })
            throw new ArgumentException("disks are on the synthetic SCSI controller, which only a VM that sees Hyper-V has", nameof(disks));
        else if (nics is { Count: > 0 })
            throw new ArgumentException("network adapters are synthetic (VMBus) devices, which only a VM that sees Hyper-V has", nameof(nics));
    }

    /// <summary>Where the vCPU threads send hypercall exits; null when the partition is not enlightened.</summary>
    internal HypercallDispatcher? Hypercalls => _enlightenments?.Hypercalls;

    /// <summary>The hypercalls the guest made, by call and status; none for a VM that does not see Hyper-V.</summary>
    public IEnumerable<(string Call, HvStatus Status, long Count)> HypercallCounts() => _enlightenments?.Hypercalls.Counts() ?? [];

    /// <summary>The VMBus channel messages the guest posted, by type; none for a VM that does not see Hyper-V.</summary>
    public IEnumerable<(string Type, long Count)> VmBusMessageCounts() => _enlightenments?.VmBus.MessageCounts() ?? [];

    /// <summary>
    /// Removes the VMBus device of class <paramref name="interfaceType"/> from the running guest
    /// (rescinds its offer, as Hyper-V does when an integration service is turned off), or with
    /// <paramref name="present"/> offers it again; false when it already is so, the guest has not
    /// released it yet, or the VM has no such device.
    /// </summary>
    public bool SetDevicePresent(Guid interfaceType, bool present) => _enlightenments?.Withdraw(interfaceType, !present) ?? false;

    /// <summary>
    /// Hands the VMBus device of class <paramref name="interfaceType"/> to a VSP elsewhere: from now
    /// on the guest's side of its channel goes through the returned relay (see <see cref="VmBusRelay"/>),
    /// and the device this worker would have served it with stays idle. Call it before the vCPUs
    /// start or a snapshot is restored, while the channel is closed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The VM does not see Hyper-V, has no such device, or its channel is open.</exception>
    public VmBusRelay RelayDevice(Guid interfaceType, Action wake) =>
        _enlightenments?.Relay(interfaceType, wake) ?? throw new InvalidOperationException("the VM has no VMBus (it does not see Hyper-V)");

    /// <summary>The devices on the VM's VMBus, by relid - 1; none for a VM that does not see Hyper-V.</summary>
    public IReadOnlyList<VmBusOffer> VmBusOffers => _enlightenments?.Offers ?? [];

    /// <summary>The VMBus as the guest left it (its version, channels and GPADLs); null for a VM that does not see Hyper-V.</summary>
    public VmBusState? VmBusState => _enlightenments?.VmBus.State;

    /// <summary>The synthetic SCSI controller's VSP of an enlightened VM (with disks or not); null for a VM that does not see Hyper-V.</summary>
    public StorageVsp? Storage => _enlightenments?.Storage;

    /// <summary>The VSPs of the network adapters of an enlightened VM, by adapter index; none otherwise.</summary>
    public IReadOnlyList<NetworkVsp> NetworkAdapters => _enlightenments?.NetworkAdapters ?? [];

    /// <summary>
    /// Completes once every disk request the guest made has been answered (into guest memory). With
    /// the vCPUs paused, nothing new arrives meanwhile: a VM about to move calls it before it takes
    /// its last dirty pages, so that no request is lost with the source.
    /// </summary>
    public Task DrainStorageAsync() => _enlightenments?.Storage.DrainAsync() ?? Task.CompletedTask;

    /// <summary>How often the guest signalled a VMBus channel.</summary>
    public long VmBusSignals => _enlightenments?.VmBus.Signals ?? 0;

    /// <summary>The heartbeat integration service of an enlightened VM; null otherwise.</summary>
    public HeartbeatService? Heartbeat => _enlightenments?.Heartbeat;

    /// <summary>The shutdown integration service of an enlightened VM; null otherwise.</summary>
    public ShutdownService? Shutdown => _enlightenments?.Shutdown;

    /// <summary>The time synchronization integration service of an enlightened VM; null otherwise.</summary>
    public TimeSyncService? TimeSync => _enlightenments?.TimeSync;

    /// <summary>The key-value pair exchange integration service of an enlightened VM; null otherwise.</summary>
    public KvpService? Kvp => _enlightenments?.Kvp;

    /// <summary>
    /// Raised once per VM for each port, address, MSR or instruction the guest used that is not
    /// implemented, on the vCPU thread that met it; a migrated VM does not raise it again for what
    /// it met before. Subscribe before <see cref="Start"/>.
    /// </summary>
    public event Action<UnimplementedUse>? UnimplementedUsed;

    /// <summary>Everything unimplemented the guest used so far, counted.</summary>
    public IReadOnlyList<UnimplementedUse> Unimplemented => _unimplemented.List();

    /// <summary>Uses of unimplemented things past the log's capacity, counted but not listed.</summary>
    public long UnimplementedOverflow => _unimplemented.Overflow;

    public string Name { get; }

    public ulong MemoryBytes { get; }

    public int ProcessorCount => _processors.Length;

    /// <summary>The backend machine, for guest memory access and dirty logging.</summary>
    public IVirtualMachine Machine => _machine;

    /// <summary>The port bus the devices sit on (for statistics and further devices before <see cref="Start"/>).</summary>
    public IoPortBus Ports => _platform.Ports;

    public VmWorkerState State
    {
        get { lock (_gate) return _state; }
    }

    /// <summary>How the software CPU runs this machine and what its translating tier did; null on KVM.</summary>
    public CpuTierReport? CpuTier => _machine is EmulatedMachine emulated
        ? new CpuTierReport(emulated.Tier.Tier, emulated.TierStatistics, emulated.InstructionsTranslated)
        : null;

    /// <summary>Instructions retired by all vCPUs.</summary>
    public ulong InstructionsRetired
    {
        get
        {
            ulong total = 0;
            foreach (var p in _processors)
                total += p.Processor.InstructionsRetired;
            return total;
        }
    }

    /// <summary>
    /// The machine's clock: nanoseconds of guest time (it stands still while the VM is paused). A
    /// vCPU whose guest never wrote its TSC reads this same value from RDTSC.
    /// </summary>
    public long GuestTimeNanoseconds => _platform.Clock.NowNanoseconds;

    /// <summary>Bytes of console output delivered so far (the next batch's sequence number).</summary>
    public long ConsoleBytes => _console.TotalBytes;

    /// <summary>Console input bytes the guest has not read yet.</summary>
    public int PendingConsoleInputBytes => _platform.Uart.PendingReceiveBytes;

    /// <summary>
    /// Creates the machine on <paramref name="backend"/>, loads <paramref name="image"/> for vCPU 0
    /// and wires the devices. Nothing runs until <see cref="Start"/>.
    /// </summary>
    /// <param name="console">Gets output batches on the vCPU thread; see <see cref="IConsoleOutputSink"/> for what it may do.</param>
    /// <param name="onEnded">Called once when the guest stops by itself; never for a requested <see cref="Stop"/>.</param>
    /// <param name="firmwareFiles">Named fw_cfg files for the guest (QEMU's <c>-fw_cfg name=...</c>).</param>
    /// <param name="initrd">A Linux kernel's initrd (QEMU's <c>-initrd</c>); empty for none.</param>
    /// <param name="commandLine">The kernel command line (QEMU's <c>-append</c>).</param>
    /// <exception cref="GuestImageException">The image cannot be loaded.</exception>
    /// <exception cref="ArgumentException">The memory size or processor count is invalid.</exception>
    public static VmWorker Create(
        IHypervisorBackend backend,
        string name,
        ReadOnlySpan<byte> image,
        ulong memoryBytes,
        int processorCount,
        IConsoleOutputSink? console,
        Action<VmRunEnded> onEnded,
        IReadOnlyDictionary<string, byte[]>? firmwareFiles = null,
        ReadOnlySpan<byte> initrd = default,
        string? commandLine = null,
        bool enlightened = false,
        IReadOnlyList<IScsiLun?>? disks = null,
        IReadOnlyList<NetworkAdapter>? nics = null)
        => CreateCore(backend, name, image, loadImage: true, memoryBytes, processorCount, console, onEnded, firmwareFiles, initrd, commandLine, enlightened, disks, nics);

    private static VmWorker CreateCore(
        IHypervisorBackend backend,
        string name,
        ReadOnlySpan<byte> image,
        bool loadImage,
        ulong memoryBytes,
        int processorCount,
        IConsoleOutputSink? console,
        Action<VmRunEnded> onEnded,
        IReadOnlyDictionary<string, byte[]>? firmwareFiles,
        ReadOnlySpan<byte> initrd = default,
        string? commandLine = null,
        bool enlightened = false,
        IReadOnlyList<IScsiLun?>? disks = null,
        IReadOnlyList<NetworkAdapter>? nics = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(onEnded);
        if (memoryBytes == 0 || memoryBytes % GuestRam.PageSize != 0)
            throw new ArgumentException($"memory size {memoryBytes} bytes is not a positive multiple of {GuestRam.PageSize / 1024} KiB", nameof(memoryBytes));
        int maxProcessors = backend.Capabilities.MaxProcessorsPerMachine;
        if (processorCount < 1 || processorCount > maxProcessors)
            throw new ArgumentException($"processor count {processorCount} is outside 1..{maxProcessors} for backend '{backend.Name}'", nameof(processorCount));

        // Guest time starts, at zero, when the guest does.
        var clock = new PlatformClock(frozen: true);
        var machine = backend.CreateMachine(PcMachine.Configuration(backend.Capabilities, memoryBytes, processorCount, clock));
        try
        {
            if (loadImage)
            {
                var loaded = GuestImageLoader.Load(image, machine.Memory, commandLine, initrd);
                machine.Processors[0].SetState(loaded.InitialState);
            }
            return new VmWorker(name, memoryBytes, machine, clock, console, onEnded, firmwareFiles, enlightened, disks, nics);
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates a machine with empty RAM and nothing loaded, to receive a saved or migrated machine
    /// through <see cref="RestoreSnapshot"/> and writes to <see cref="Machine"/>'s memory.
    /// </summary>
    public static VmWorker CreateForRestore(
        IHypervisorBackend backend,
        string name,
        ulong memoryBytes,
        int processorCount,
        IConsoleOutputSink? console,
        Action<VmRunEnded> onEnded,
        IReadOnlyDictionary<string, byte[]>? firmwareFiles = null,
        bool enlightened = false,
        IReadOnlyList<IScsiLun?>? disks = null,
        IReadOnlyList<NetworkAdapter>? nics = null) =>
        CreateCore(backend, name, image: default, loadImage: false, memoryBytes, processorCount, console, onEnded, firmwareFiles, enlightened: enlightened, disks: disks, nics: nics);

    /// <summary>
    /// Starts the guest: one dedicated background thread per vCPU (already there after
    /// <see cref="PrepareThreads"/>). Only valid once, from <see cref="VmWorkerState.Created"/>.
    /// </summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_state != VmWorkerState.Created)
                throw new InvalidOperationException($"VM '{Name}' cannot start: it is {_state}");
            _state = VmWorkerState.Running;
            _started = true;
            foreach (var p in _processors)
            {
                if (MustPark(p))
                    p.Signal();
            }
            StartThreadsLocked();
            Monitor.PulseAll(_gate);
        }
        _platform.Thaw();
    }

    /// <summary>
    /// Creates the vCPU and timer threads now, parked until <see cref="Start"/>. A migration target
    /// does this while the pages arrive: on a busy host, starting threads takes milliseconds, and
    /// at the switch-over those would be downtime. Does nothing once started or stopped.
    /// </summary>
    public void PrepareThreads()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_state == VmWorkerState.Created)
                StartThreadsLocked();
        }
    }

    private void StartThreadsLocked()
    {
        if (_threadsStarted)
            return;
        _threadsStarted = true;
        foreach (var p in _processors)
        {
            // Attention first, so the new thread asks the gate (and parks until started) before it runs the guest.
            p.Signal();
            p.Start(Name);
        }
        // The timer thread sleeps while the clock is frozen, as it is until Start thaws it.
        _platform.Start();
    }

    /// <summary>
    /// Stops every vCPU at an instruction boundary and returns once all are parked, with the
    /// console flushed. Does nothing when already paused or stopped.
    /// </summary>
    public void Pause()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_state == VmWorkerState.Created)
                throw new InvalidOperationException($"VM '{Name}' cannot pause: it has not been started");
            if (_state != VmWorkerState.Running)
                return;
            _state = VmWorkerState.Paused;
            _hostPaused = true;
            foreach (var p in _processors)
                p.Signal();
            while (!_terminating && !AllParked())
                Monitor.Wait(_gate);
        }
        // Guest time stops with the guest, so timers do not pile up interrupts while paused.
        _platform.Freeze();
        _platform.Uart.Flush();
    }

    /// <summary>Lets a paused VM run again. Does nothing when running or stopped.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_state == VmWorkerState.Created)
                throw new InvalidOperationException($"VM '{Name}' cannot resume: it has not been started");
            if (_state != VmWorkerState.Paused)
                return;
            _platform.Thaw();
            _state = VmWorkerState.Running;
            _hostPaused = false;
            Monitor.PulseAll(_gate);
        }
        _enlightenments?.Resumed();
    }

    /// <summary>
    /// Stops the VM for good and joins its vCPU threads. No <c>onEnded</c> call follows, unless
    /// the guest had already ended by itself, in which case this waits for that report. Idempotent.
    /// </summary>
    public void Stop()
    {
        lock (_gate)
        {
            // A guest that already ended keeps its reason; a requested stop reports nothing.
            _terminating = true;
            _state = VmWorkerState.Stopped;
            if (_threadsStarted)
            {
                foreach (var p in _processors)
                {
                    if (!p.Exited)
                        p.Signal();
                }
            }
            Monitor.PulseAll(_gate);
        }
        var current = Thread.CurrentThread;
        foreach (var p in _processors)
        {
            // onEnded may stop the VM from the last vCPU thread; it cannot join itself.
            if (p.Thread is { } thread && thread != current)
                thread.Join();
        }
        _throttle.Dispose();
        _platform.Dispose();
        _platform.Uart.Flush();
    }

    /// <summary>Parks one vCPU at an instruction boundary; returns once it is parked.</summary>
    public void PauseProcessor(int index)
    {
        var p = ProcessorAt(index);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            p.ProcessorPaused = true;
            if (!_started || _terminating)
                return;
            p.Signal();
            while (!_terminating && !p.Parked && !p.Exited)
                Monitor.Wait(_gate);
        }
    }

    public void ResumeProcessor(int index)
    {
        var p = ProcessorAt(index);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            p.ProcessorPaused = false;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Parks the vCPUs for <paramref name="percent"/>% of every 10 ms (0 = off, at most 99) while
    /// guest time runs on: live migration's auto-converge for a guest that dirties memory faster
    /// than it can be copied.
    /// </summary>
    public void SetThrottle(int percent) => _throttle.Set(percent);

    /// <summary>The current throttle, 0 when off.</summary>
    public int ThrottlePercent => _throttle.Percent;

    /// <summary>Queues bytes in the UART's receive queue; bytes beyond its capacity are dropped as overruns.</summary>
    public void SendConsoleInput(ReadOnlySpan<byte> data) => _platform.Uart.EnqueueReceive(data);

    /// <summary>The retained tail (up to 64 KiB) of the console output and the sequence number of its first byte.</summary>
    public (long Sequence, byte[] Bytes) ReadRecentOutput() => _console.ReadRecent();

    /// <summary>
    /// Counters of one vCPU and, when <paramref name="includeRegisters"/>, its registers: a running
    /// vCPU is parked for the moment it takes to read them.
    /// </summary>
    public ProcessorSnapshot GetProcessor(int index, bool includeRegisters)
    {
        var p = ProcessorAt(index);
        VpState? state = null;
        bool paused;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            paused = p.ProcessorPaused;
            if (includeRegisters)
            {
                if (_started && !p.Exited && !p.Parked)
                {
                    p.SnapshotHolds++;
                    p.Signal();
                    while (!p.Parked && !p.Exited)
                        Monitor.Wait(_gate);
                    state = p.Processor.GetState();
                    p.SnapshotHolds--;
                    Monitor.PulseAll(_gate);
                }
                else
                {
                    // Parked threads wait on this gate, so holding it keeps them out of the guest.
                    state = p.Processor.GetState();
                }
            }
        }
        return new ProcessorSnapshot(index, paused, p.Processor.InstructionsRetired, p.GetExitCounts(), state);
    }

    /// <summary>
    /// The whole machine but its RAM (read that through <see cref="Machine"/>) as a snapshot: the
    /// machine's shape, the clock and every device, every vCPU's registers and the console's
    /// position, each in its own versioned section. Only while <see cref="VmWorkerState.Paused"/>
    /// or before <see cref="Start"/>, when no vCPU is in the guest and guest time stands still.
    /// </summary>
    public byte[] SaveSnapshot()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_state is not (VmWorkerState.Paused or VmWorkerState.Created))
                throw new InvalidOperationException($"VM '{Name}' cannot be saved while it is {_state}; pause it first");
        }
        // Paused, so the UART is flushed and the log is final.
        var (consoleSequence, consoleTail) = _console.ReadRecent();
        // Room for all but the largest machines at once: a few hundred bytes of platform, about 1.3 KiB a vCPU.
        using var writer = new SnapshotWriter(4096 + 2048 * _processors.Length + consoleTail.Length);
        writer.Add(MachineSection, new MachineShape(_processors.Length, MemoryBytes));
        _platform.SaveSnapshot(writer);
        for (int i = 0; i < _processors.Length; i++)
            writer.Add(_processorSections[i], _processors[i].Processor.GetState());
        writer.Add(ConsoleSection, new ConsoleOutputState(consoleSequence, consoleTail));
        writer.Add(UnimplementedSection, _unimplemented.SaveState());
        _enlightenments?.SaveSnapshot(writer);
        return writer.ToArray();
    }

    /// <summary>
    /// Makes this machine the one <paramref name="snapshot"/> was saved from (its RAM must be copied
    /// separately). Only before <see cref="Start"/>, and once; the machine then resumes exactly where
    /// the saved one stopped, its clock and console numbering included.
    /// </summary>
    /// <exception cref="SnapshotException">
    /// The snapshot is damaged, written by a build that this one cannot read, or of another shape of
    /// machine. Nothing has changed then: the machine can still take another snapshot, or be disposed.
    /// </exception>
    public void RestoreSnapshot(ReadOnlySpan<byte> snapshot)
    {
        lock (_gate)
            EnsureRestorableLocked();

        // Every section is decoded and checked before anything changes, so that a refused snapshot
        // leaves a machine that is still the empty one it was, not half of the saved one.
        var reader = SnapshotReader.Open(snapshot);
        var shape = reader.Read<MachineShape>(MachineSection);
        var ours = new MachineShape(_processors.Length, MemoryBytes);
        if (shape != ours)
            throw SnapshotException.InSection(MachineSection, $"the snapshot is of a machine with {shape}; VM '{Name}' has {ours}");
        PlatformSections platform = _platform.ReadSnapshot(reader);
        var processors = new VpState[_processors.Length];
        for (int i = 0; i < processors.Length; i++)
        {
            processors[i] = reader.Read<VpState>(_processorSections[i]);
            SnapshotException.ThrowIfProblem(_processorSections[i], processors[i].FindProblem());
        }
        var console = reader.Read<ConsoleOutputState>(ConsoleSection);
        if (console.Sequence < 0 || console.Sequence > long.MaxValue - console.Tail.Length)
            throw SnapshotException.InSection(ConsoleSection, $"output sequence {console.Sequence} is out of range");
        var unimplemented = reader.Read<UnimplementedLogState>(UnimplementedSection);
        // An enlightened machine takes only an enlightened one's snapshot, and the other way round
        // (a section this machine does not read is refused as unknown).
        VmEnlightenments.Sections? enlightenments = _enlightenments?.ReadSnapshot(reader);
        reader.EnsureEverySectionRead();

        lock (_gate)
        {
            // Checked again: decoding took time in which the machine may have been started or disposed.
            EnsureRestorableLocked();
            _restored = true;
        }
        // The APIC first: a vCPU's CR8 and APIC base are the APIC's, and its TSC is relative to the clock.
        _platform.Restore(platform);
        _console.Continue(console.Sequence, console.Tail);
        _unimplemented.RestoreState(unimplemented);
        if (enlightenments is not null)
            _enlightenments!.Restore(enlightenments);
        for (int i = 0; i < _processors.Length; i++)
            _processors[i].Processor.SetState(processors[i]);
        lock (_gate)
        {
            for (int i = 0; i < _processors.Length; i++)
            {
                var p = _processors[i];
                p.WaitingForStartup = _platform.LocalApics[i].WaitingForStartup;
                p.WaitingForInterrupt = false;
                p.StartupEventPending = _platform.LocalApics[i].HasStartupEvent;
                if (_started)
                    p.Signal();
            }
        }
    }

    private void EnsureRestorableLocked()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_state != VmWorkerState.Created)
            throw new InvalidOperationException($"VM '{Name}' cannot be restored: it is {_state}, and only a machine that has not started can be");
        if (_restored)
            throw new InvalidOperationException($"VM '{Name}' has already been restored from a snapshot");
    }

    /// <summary>Stops the VM and frees the machine.</summary>
    public void Dispose()
    {
        Stop();
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        // A disk's late answer must not land in memory that is about to be freed.
        _enlightenments?.Storage.Detach();
        foreach (NetworkVsp nic in NetworkAdapters)
            nic.Detach();
        _machine.Dispose();
    }

    /// <summary>Called by a vCPU thread when an exit ends the run.</summary>
    internal void EndRun(ExitAction action, in VpExit exit)
    {
        switch (action)
        {
            case ExitAction.TripleFault:
                EndRun("triple fault", exitStatus: null, failed: true);
                break;
            default:
                EndRun("internal error: " + ExitDispatcher.Describe(action, exit), exitStatus: null, failed: true);
                break;
        }
    }

    /// <summary>Records why the guest ended, unless a stop or an earlier end came first, and stops every vCPU.</summary>
    internal void EndRun(string reason, int? exitStatus, bool failed)
    {
        lock (_gate)
        {
            if (_terminating)
                return;
            _terminating = true;
            _state = VmWorkerState.Stopped;
            _endReason = reason;
            _endStatus = exitStatus;
            _endFailed = failed;
            foreach (var p in _processors)
            {
                if (!p.Exited)
                    p.Signal();
            }
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Called by a vCPU thread whose attention flag is set. Parks it while anything asks it to
    /// wait; returns what the thread must do next.
    /// </summary>
    internal ProcessorDirective WaitUntilRunnable(VirtualProcessorThread processor)
    {
        lock (_gate)
        {
            while (true)
            {
                if (_terminating)
                    return ProcessorDirective.Leave;
                if (processor.StartupEventPending && _started && !_hostPaused && processor.SnapshotHolds == 0)
                {
                    // INIT and SIPI change the vCPU's state, which the thread does outside the gate.
                    processor.StartupEventPending = false;
                    processor.Parked = false;
                    return ProcessorDirective.HandleStartupEvent;
                }
                if (!MustPark(processor))
                {
                    processor.Parked = false;
                    processor.ClearAttention();
                    return ProcessorDirective.Run;
                }
                if (!processor.Parked)
                {
                    processor.Parked = true;
                    Monitor.PulseAll(_gate);
                }
                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>Called by a vCPU thread after HLT: it parks, off the CPU, until an interrupt wakes it.</summary>
    internal void WaitForInterrupt(VirtualProcessorThread processor)
    {
        lock (_gate)
        {
            processor.WaitingForInterrupt = true;
            // An interrupt that arrived after the processor decided to halt must not be slept through.
            if (processor.TakeWakeRequest())
                processor.WaitingForInterrupt = false;
            else
                processor.Signal();
        }
    }

    /// <summary>An interrupt for a halted vCPU: unpark it. Any thread; takes the gate.</summary>
    internal void WakeFromHalt(VirtualProcessorThread processor)
    {
        lock (_gate)
        {
            if (!processor.WaitingForInterrupt)
                return;
            processor.WaitingForInterrupt = false;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>An INIT or start-up IPI reached the vCPU's APIC: make its thread come and handle it.</summary>
    internal void PostStartupEvent(VirtualProcessorThread processor)
    {
        lock (_gate)
        {
            processor.StartupEventPending = true;
            if (_started && !processor.Exited)
                processor.Signal();
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The vCPU took an INIT (waits for SIPI from now on) or a SIPI (runs from now on).</summary>
    internal void SetWaitingForStartup(VirtualProcessorThread processor, bool waiting)
    {
        lock (_gate)
        {
            processor.WaitingForStartup = waiting;
            processor.WaitingForInterrupt = false;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Called by each vCPU thread as it leaves; the last one reports a guest-initiated end.</summary>
    internal void OnProcessorThreadExited(VirtualProcessorThread processor)
    {
        VmRunEnded? ended = null;
        bool last;
        lock (_gate)
        {
            processor.Exited = true;
            processor.Parked = false;
            _threadsExited++;
            last = _threadsExited == _processors.Length;
            Monitor.PulseAll(_gate);
            if (last && _endReason is not null && !_endReported)
            {
                _endReported = true;
                ended = new VmRunEnded(_endReason, _endStatus, _endFailed, 0);
            }
        }
        if (ended is null)
            return;
        // Every vCPU has left the guest, so the count is final and the output complete.
        _platform.Uart.Flush();
        _onEnded(ended with { InstructionsRetired = InstructionsRetired });
    }

    /// <summary>The throttle's thread parks (true) or releases (false) every vCPU; it never waits for them.</summary>
    private void ParkForThrottle(bool parked)
    {
        lock (_gate)
        {
            if (_throttleParked == parked)
                return;
            _throttleParked = parked;
            if (parked)
            {
                foreach (var p in _processors)
                {
                    if (_started && !p.Exited)
                        p.Signal();
                }
            }
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>isa-debug-exit's callback, on the vCPU thread that wrote the port.</summary>
    private void RequestGuestExit(int exitStatus) => EndRun("debug-exit", exitStatus, failed: false);

    /// <summary>The guest entered ACPI S5; like QEMU, the run ends with status 0.</summary>
    private void RequestPowerOff() => EndRun(PowerOffReason, exitStatus: 0, failed: false);

    /// <summary>
    /// A guest-requested reset (port 0x92, 0xCF9, INIT to the bootstrap processor). There is no
    /// firmware to run again, so the VM stops, as QEMU does with <c>-no-reboot</c>.
    /// </summary>
    internal void RequestReset(string reason) => EndRun("reset: " + reason, exitStatus: null, failed: false);

    private bool MustPark(VirtualProcessorThread p) =>
        !_started || _hostPaused || _throttleParked || p.ProcessorPaused || p.WaitingForStartup || p.WaitingForInterrupt || p.SnapshotHolds > 0;

    private bool AllParked()
    {
        foreach (var p in _processors)
        {
            if (!p.Parked && !p.Exited)
                return false;
        }
        return true;
    }

    private VirtualProcessorThread ProcessorAt(int index)
    {
        if ((uint)index >= (uint)_processors.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"VM '{Name}' has processors 0..{_processors.Length - 1}");
        return _processors[index];
    }
}
