namespace Actors.HwBackend.Runner;

/// <summary>
/// Limits on one run, so a test can never hang on a guest that loops. Both are checked at every
/// exit and every <see cref="BudgetCheckInterval"/>, so a guest that runs without exits overshoots
/// by that interval's worth of execution, or more when a busy host runs the check timer late.
/// </summary>
public sealed record GuestRunnerOptions
{
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>
    /// Work the guest may do: instructions retired plus exceptions and interrupts delivered, one
    /// each, so a guest stuck in an exception loop (which retires nothing) ends too.
    /// </summary>
    public ulong? InstructionBudget { get; init; }

    public TimeSpan BudgetCheckInterval { get; init; } = TimeSpan.FromMilliseconds(10);
}
