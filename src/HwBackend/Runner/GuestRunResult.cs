namespace Actors.HwBackend.Runner;

/// <summary>What one <see cref="GuestRunner.Run"/> call did.</summary>
/// <param name="Outcome">How the run ended.</param>
/// <param name="ExitStatus">The isa-debug-exit status for <see cref="GuestRunOutcome.DebugExit"/>, otherwise null.</param>
/// <param name="InstructionsRetired">Instructions vCPU 0 retired during this run.</param>
/// <param name="Elapsed">Wall-clock time of the run loop.</param>
/// <param name="Message">Detail for outcomes other than a debug exit.</param>
/// <param name="Exits">VM exits handled.</param>
/// <param name="UnhandledMmioReads">MMIO reads no device answered (they read all-ones).</param>
/// <param name="UnhandledMmioWrites">MMIO writes no device took (they were dropped).</param>
/// <param name="EventsDelivered">Exceptions and interrupts vCPU 0 delivered during this run.</param>
public sealed record GuestRunResult(
    GuestRunOutcome Outcome,
    int? ExitStatus,
    ulong InstructionsRetired,
    TimeSpan Elapsed,
    string? Message,
    long Exits,
    long UnhandledMmioReads,
    long UnhandledMmioWrites,
    ulong EventsDelivered = 0);
