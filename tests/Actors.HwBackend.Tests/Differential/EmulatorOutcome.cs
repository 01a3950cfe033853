using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// What the software CPU did with one test, beyond the register state. <see cref="Vector"/> is the
/// exception the guest raised (-1 for none), with its error code and faulting RIP.
/// </summary>
internal readonly record struct EmulatorOutcome(VpExitReason Reason, ulong Rip, string? Message, int Vector = -1, ulong ErrorCode = 0, ulong FaultRip = 0);
