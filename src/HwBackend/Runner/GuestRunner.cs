using System.Diagnostics;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Platform;
using Actors.HwBackend.Worker;

namespace Actors.HwBackend.Runner;

/// <summary>
/// Runs vCPU 0 of a machine until the guest stops, handling its exits on the calling thread:
/// port I/O goes to the <see cref="IoPortBus"/>, MMIO with no device reads all-ones and drops
/// writes. The loop allocates nothing per exit. Stop requests (<see cref="RequestStop"/>,
/// <see cref="RequestGuestExit"/>, cancellation, budgets) may come from any thread.
/// </summary>
public sealed class GuestRunner
{
    private const int NoStop = 0;
    private const int StopForGuestExit = 1;
    private const int StopFromOutside = 2;
    private const int StopForTimeBudget = 3;
    private const int StopForInstructionBudget = 4;

    private const string HypercallMessage = "hypercall exit, but no hypercall handler is attached";

    private readonly IVirtualProcessor _processor;
    private readonly ExitDispatcher _dispatcher;
    private readonly GuestRunnerOptions _options;
    private readonly Lock _stopLock = new();

    private int _stopReason;
    private int _guestExitStatus;
    private int _generation;
    private int _running;
    private int _runThreadId;
    private long _runStartTimestamp;
    private ulong _runStartWork;

    public GuestRunner(IVirtualMachine machine, IoPortBus ports, GuestRunnerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(ports);
        if (machine.Processors.Count == 0)
            throw new ArgumentException("the machine has no virtual processors", nameof(machine));
        Machine = machine;
        Ports = ports;
        // A bare machine has no MMIO devices: what it reads there floats high, like an empty bus.
        _dispatcher = new ExitDispatcher(ports, new MmioBus());
        _processor = machine.Processors[0];
        _options = options ?? new GuestRunnerOptions();
    }

    public IVirtualMachine Machine { get; }

    public IoPortBus Ports { get; }

    /// <summary>Stops the run in progress soon, or the next run at once when none is in progress.</summary>
    public void RequestStop() => SetStop(StopFromOutside, 0, generation: -1);

    /// <summary>
    /// Ends the run with <see cref="GuestRunOutcome.DebugExit"/> and <paramref name="exitStatus"/>;
    /// the first exit request of a run wins. This is what <see cref="DebugExitDevice"/> calls.
    /// </summary>
    public void RequestGuestExit(int exitStatus) => SetStop(StopForGuestExit, exitStatus, generation: -1);

    /// <summary>Runs vCPU 0 on the calling thread until the guest stops, a stop is requested or a budget runs out.</summary>
    public GuestRunResult Run(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException("vCPU 0 of this machine is already running");
        try
        {
            return RunLoop(cancellationToken);
        }
        finally
        {
            lock (_stopLock)
            {
                // A new generation makes budget timer callbacks still in flight harmless.
                _generation++;
                _stopReason = NoStop;
                _runThreadId = 0;
                Volatile.Write(ref _running, 0);
            }
        }
    }

    private GuestRunResult RunLoop(CancellationToken cancellationToken)
    {
        var processor = _processor;
        var dispatcher = _dispatcher;
        int generation;
        lock (_stopLock)
        {
            generation = _generation;
            _runThreadId = Environment.CurrentManagedThreadId;
            _runStartWork = Work(processor);
            _runStartTimestamp = Stopwatch.GetTimestamp();
        }
        ulong startWork = _runStartWork;
        ulong startInstructions = processor.InstructionsRetired;
        ulong startEvents = processor.EventsDelivered;
        long start = _runStartTimestamp;
        long timeBudgetTicks = _options.TimeBudget is { } time ? (long)(time.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        ulong instructionBudget = _options.InstructionBudget ?? ulong.MaxValue;

        using var cancellation = cancellationToken.Register(static state => ((GuestRunner)state!).RequestStop(), this);
        using var budgetTimer = _options.TimeBudget is not null || _options.InstructionBudget is not null
            ? new Timer(static state => ((BudgetTimerState)state!).Check(), new BudgetTimerState(this, generation), _options.BudgetCheckInterval, _options.BudgetCheckInterval)
            : null;

        long exits = 0, mmioReads = 0, mmioWrites = 0;
        GuestRunOutcome? outcome = null;
        string? message = null;
        while (Volatile.Read(ref _stopReason) == NoStop)
        {
            var exit = processor.Run();
            exits++;
            if (exit.Reason == VpExitReason.MmioRead)
                mmioReads++;
            else if (exit.Reason == VpExitReason.MmioWrite)
                mmioWrites++;
            var action = dispatcher.Dispatch(processor, exit);
            switch (action)
            {
                case ExitAction.Continue:
                    break;
                case ExitAction.Halted:
                    (outcome, message) = (GuestRunOutcome.Halted, ExitDispatcher.HaltMessage);
                    break;
                case ExitAction.TripleFault:
                    (outcome, message) = (GuestRunOutcome.TripleFault, ExitDispatcher.TripleFaultMessage);
                    break;
                case ExitAction.InternalError:
                    (outcome, message) = (GuestRunOutcome.InternalError, ExitDispatcher.Describe(action, exit));
                    break;
                case ExitAction.Hypercall:
                    (outcome, message) = (GuestRunOutcome.UnsupportedExit, HypercallMessage);
                    break;
                default:
                    (outcome, message) = (GuestRunOutcome.UnsupportedExit, ExitDispatcher.Describe(action, exit));
                    break;
            }
            if (outcome is not null)
                break;
            if (Work(processor) - startWork >= instructionBudget)
                SetStop(StopForInstructionBudget, 0, generation);
            else if (Stopwatch.GetTimestamp() - start >= timeBudgetTicks)
                SetStop(StopForTimeBudget, 0, generation);
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        ulong instructions = processor.InstructionsRetired - startInstructions;
        ulong events = processor.EventsDelivered - startEvents;
        int? exitStatus = null;
        if (outcome is null)
        {
            lock (_stopLock)
            {
                switch (_stopReason)
                {
                    case StopForGuestExit:
                        outcome = GuestRunOutcome.DebugExit;
                        exitStatus = _guestExitStatus;
                        break;
                    case StopForTimeBudget:
                        (outcome, message) = (GuestRunOutcome.TimeBudgetExhausted, $"time budget of {_options.TimeBudget} exhausted");
                        break;
                    case StopForInstructionBudget:
                        (outcome, message) = (GuestRunOutcome.InstructionBudgetExhausted, InstructionBudgetMessage(instructions, events));
                        break;
                    default:
                        (outcome, message) = (GuestRunOutcome.Stopped, "stop requested");
                        break;
                }
            }
        }
        return new GuestRunResult(outcome.Value, exitStatus, instructions, elapsed, message, exits, mmioReads, mmioWrites, events);
    }

    /// <summary>What the instruction budget counts: a delivery is work, since an exception loop retires nothing.</summary>
    private static ulong Work(IVirtualProcessor processor) => processor.InstructionsRetired + processor.EventsDelivered;

    private string InstructionBudgetMessage(ulong instructions, ulong events)
    {
        string budget = $"instruction budget of {_options.InstructionBudget} exhausted";
        // Handlers retire instructions for every interrupt they take; only a loop of faults
        // delivers more than it retires.
        return events > instructions
            ? $"{budget}: {events} exceptions or interrupts delivered but only {instructions} instructions retired, so the guest is stuck in an exception loop (a handler that faults again)"
            : budget;
    }

    /// <summary>
    /// Records the first stop reason and, when the request comes from another thread while the
    /// guest runs, kicks the vCPU out of <c>Run</c>. Requests from the run thread itself (a device
    /// handling an exit) need no kick: the loop checks the reason before it enters the guest again.
    /// </summary>
    private void SetStop(int reason, int exitStatus, int generation)
    {
        bool kick;
        lock (_stopLock)
        {
            if (generation >= 0 && generation != _generation)
                return;
            if (_stopReason != NoStop)
                return;
            _guestExitStatus = exitStatus;
            Volatile.Write(ref _stopReason, reason);
            kick = _running != 0 && _runThreadId != 0 && _runThreadId != Environment.CurrentManagedThreadId;
        }
        if (kick)
            _processor.RequestStop();
    }

    private void CheckBudgets(int generation)
    {
        ulong? instructionBudget = _options.InstructionBudget;
        if (instructionBudget is not null && Work(_processor) - _runStartWork >= instructionBudget.Value)
            SetStop(StopForInstructionBudget, 0, generation);
        else if (_options.TimeBudget is { } time && Stopwatch.GetElapsedTime(_runStartTimestamp) >= time)
            SetStop(StopForTimeBudget, 0, generation);
    }

    private sealed class BudgetTimerState(GuestRunner runner, int generation)
    {
        public void Check() => runner.CheckBudgets(generation);
    }
}
