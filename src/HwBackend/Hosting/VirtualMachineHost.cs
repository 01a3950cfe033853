using Actors.HwBackend.Boot;
using Actors.HwBackend.Devices;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Hosting;

/// <summary>
/// One VM on this host: the backend machine, its platform devices (COM1 16550 at 0x3F8,
/// isa-debug-exit at 0xF4) and one dedicated OS thread per vCPU. This is what a host's backend
/// grain owns; it knows nothing of Orleans.
/// <para>
/// Life cycle: <see cref="VmHostState.Created"/> → <see cref="Start"/> → Running ⇄ Paused →
/// Stopped. The guest ending by itself (debug-exit, HLT with nothing to wake it, triple fault,
/// backend error) moves to Stopped and calls <c>onEnded</c> exactly once, on the last vCPU thread to
/// leave, after the console is flushed and with no lock held. A requested <see cref="Stop"/> never
/// calls it. Control methods are thread-safe, but must not be called from the console sink.
/// </para>
/// </summary>
public sealed class VirtualMachineHost : IDisposable
{
    private readonly IVirtualMachine _machine;
    private readonly Uart16550 _uart;
    private readonly ConsoleOutputLog _console;
    private readonly Action<VmRunEnded> _onEnded;
    private readonly VirtualProcessorThread[] _processors;

    // The gate guards the state machine below and the guarded fields of every
    // VirtualProcessorThread; parked vCPU threads and waiting callers use it as a monitor.
    private readonly object _gate = new();
    private VmHostState _state = VmHostState.Created;
    private bool _started;
    private bool _hostPaused;
    private bool _terminating;
    private bool _disposed;
    private int _threadsExited;

    // Written under the gate when the guest ends by itself; read by the thread that reports it.
    private string? _endReason;
    private int? _endStatus;
    private bool _endFailed;
    private bool _endReported;

    private VirtualMachineHost(string name, ulong memoryBytes, IVirtualMachine machine, IConsoleOutputSink? console, Action<VmRunEnded> onEnded)
    {
        Name = name;
        MemoryBytes = memoryBytes;
        _machine = machine;
        _onEnded = onEnded;
        _console = new ConsoleOutputLog(console);
        _uart = new Uart16550(_console);
        var ports = new IoPortBus();
        ports.Register(Uart16550.Com1Port, Uart16550.PortCount, _uart, "com1");
        ports.Register(DebugExitDevice.DefaultPort, DebugExitDevice.PortCount, new DebugExitDevice(RequestGuestExit), "isa-debug-exit");
        Ports = ports;
        _processors = new VirtualProcessorThread[machine.Processors.Count];
        for (int i = 0; i < _processors.Length; i++)
        {
            // Application processors would wait for INIT-SIPI; until SMP exists they just park.
            _processors[i] = new VirtualProcessorThread(this, machine.Processors[i], ports, i) { WaitingForStartup = i != 0 };
        }
    }

    public string Name { get; }

    public ulong MemoryBytes { get; }

    public int ProcessorCount => _processors.Length;

    /// <summary>The backend machine, for guest memory access and dirty logging.</summary>
    public IVirtualMachine Machine => _machine;

    /// <summary>The port bus the devices sit on (for statistics and further devices before <see cref="Start"/>).</summary>
    public IoPortBus Ports { get; }

    public VmHostState State
    {
        get { lock (_gate) return _state; }
    }

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

    /// <summary>Bytes of console output delivered so far (the next batch's sequence number).</summary>
    public long ConsoleBytes => _console.TotalBytes;

    /// <summary>Console input bytes the guest has not read yet.</summary>
    public int PendingConsoleInputBytes => _uart.PendingReceiveBytes;

    /// <summary>
    /// Creates the machine on <paramref name="backend"/>, loads <paramref name="image"/> for vCPU 0
    /// and wires the devices. Nothing runs until <see cref="Start"/>.
    /// </summary>
    /// <param name="console">Gets output batches on the vCPU thread; see <see cref="IConsoleOutputSink"/> for what it may do.</param>
    /// <param name="onEnded">Called once when the guest stops by itself; never for a requested <see cref="Stop"/>.</param>
    /// <exception cref="GuestImageException">The image cannot be loaded.</exception>
    /// <exception cref="ArgumentException">The memory size or processor count is invalid.</exception>
    public static VirtualMachineHost Create(
        IHypervisorBackend backend,
        string name,
        ReadOnlySpan<byte> image,
        ulong memoryBytes,
        int processorCount,
        IConsoleOutputSink? console,
        Action<VmRunEnded> onEnded)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(onEnded);
        if (memoryBytes == 0 || memoryBytes % GuestRam.PageSize != 0)
            throw new ArgumentException($"memory size {memoryBytes} bytes is not a positive multiple of {GuestRam.PageSize / 1024} KiB", nameof(memoryBytes));
        int maxProcessors = backend.Capabilities.MaxProcessorsPerMachine;
        if (processorCount < 1 || processorCount > maxProcessors)
            throw new ArgumentException($"processor count {processorCount} is outside 1..{maxProcessors} for backend '{backend.Name}'", nameof(processorCount));

        var machine = backend.CreateMachine(new MachineConfiguration(memoryBytes, processorCount));
        try
        {
            var loaded = GuestImageLoader.Load(image, machine.Memory);
            machine.Processors[0].SetState(loaded.InitialState);
            return new VirtualMachineHost(name, memoryBytes, machine, console, onEnded);
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>Starts one dedicated background thread per vCPU. Only valid once, from <see cref="VmHostState.Created"/>.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_state != VmHostState.Created)
                throw new InvalidOperationException($"VM '{Name}' cannot start: it is {_state}");
            _state = VmHostState.Running;
            _started = true;
            foreach (var p in _processors)
            {
                if (MustPark(p))
                    p.Signal();
            }
            foreach (var p in _processors)
                p.Start(Name);
        }
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
            if (_state == VmHostState.Created)
                throw new InvalidOperationException($"VM '{Name}' cannot pause: it has not been started");
            if (_state != VmHostState.Running)
                return;
            _state = VmHostState.Paused;
            _hostPaused = true;
            foreach (var p in _processors)
                p.Signal();
            while (!_terminating && !AllParked())
                Monitor.Wait(_gate);
        }
        _uart.Flush();
    }

    /// <summary>Lets a paused VM run again. Does nothing when running or stopped.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_state == VmHostState.Created)
                throw new InvalidOperationException($"VM '{Name}' cannot resume: it has not been started");
            if (_state != VmHostState.Paused)
                return;
            _state = VmHostState.Running;
            _hostPaused = false;
            Monitor.PulseAll(_gate);
        }
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
            _state = VmHostState.Stopped;
            if (_started)
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
        _uart.Flush();
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

    /// <summary>Queues bytes in the UART's receive queue; bytes beyond its capacity are dropped as overruns.</summary>
    public void SendConsoleInput(ReadOnlySpan<byte> data) => _uart.EnqueueReceive(data);

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
        _machine.Dispose();
    }

    /// <summary>Called by a vCPU thread when an exit ends the run.</summary>
    internal void EndRun(PlatformExitAction action, in VpExit exit)
    {
        switch (action)
        {
            case PlatformExitAction.TripleFault:
                EndRun("triple fault", exitStatus: null, failed: true);
                break;
            default:
                EndRun("internal error: " + PlatformExitHandler.Describe(action, exit), exitStatus: null, failed: true);
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
            _state = VmHostState.Stopped;
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
    /// wait; returns false when it must leave its run loop.
    /// </summary>
    internal bool WaitUntilRunnable(VirtualProcessorThread processor)
    {
        lock (_gate)
        {
            while (true)
            {
                if (_terminating)
                    return false;
                if (!MustPark(processor))
                {
                    processor.Parked = false;
                    processor.ClearAttention();
                    return true;
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

    /// <summary>Called by a vCPU thread after HLT: it parks, off the CPU, until something wakes it.</summary>
    internal void WaitForInterrupt(VirtualProcessorThread processor)
    {
        lock (_gate)
        {
            processor.WaitingForInterrupt = true;
            processor.Signal();
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
        _uart.Flush();
        _onEnded(ended with { InstructionsRetired = InstructionsRetired });
    }

    /// <summary>isa-debug-exit's callback, on the vCPU thread that wrote the port.</summary>
    private void RequestGuestExit(int exitStatus) => EndRun("debug-exit", exitStatus, failed: false);

    private bool MustPark(VirtualProcessorThread p) =>
        _hostPaused || p.ProcessorPaused || p.WaitingForStartup || p.WaitingForInterrupt || p.SnapshotHolds > 0;

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
