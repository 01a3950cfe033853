namespace Actors.HwBackend.Runner;

/// <summary>How a guest run ended.</summary>
public enum GuestRunOutcome
{
    /// <summary>The guest wrote to isa-debug-exit; <see cref="GuestRunResult.ExitStatus"/> holds (v &lt;&lt; 1) | 1.</summary>
    DebugExit,

    /// <summary>HLT with nothing that could ever wake it: the guest is stopped for good.</summary>
    Halted,

    /// <summary>Triple fault. A PC would reset; like QEMU with <c>-no-reboot</c>, we stop.</summary>
    TripleFault,

    /// <summary>The backend could not continue; <see cref="GuestRunResult.Message"/> says why.</summary>
    InternalError,

    /// <summary>An exit nothing here handles yet (for example a hypercall).</summary>
    UnsupportedExit,

    /// <summary>Stopped from outside: <c>RequestStop</c> or the cancellation token.</summary>
    Stopped,

    /// <summary>The run reached <see cref="GuestRunnerOptions.TimeBudget"/>.</summary>
    TimeBudgetExhausted,

    /// <summary>The run reached <see cref="GuestRunnerOptions.InstructionBudget"/>.</summary>
    InstructionBudgetExhausted,
}
