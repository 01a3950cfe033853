using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Worker;

/// <summary>One vCPU as <see cref="VmWorker.GetProcessor"/> saw it.</summary>
/// <param name="Index">The vCPU's index; 0 is the bootstrap processor.</param>
/// <param name="Paused">Paused by <see cref="VmWorker.PauseProcessor"/> (not by a whole-VM pause).</param>
/// <param name="InstructionsRetired">Instructions this vCPU retired.</param>
/// <param name="ExitsByReason">Exit counts keyed "port-in", "port-out", "mmio-read", "mmio-write", "halt", "hypercall", "shutdown", ...; every reason is present.</param>
/// <param name="State">The registers when asked for, taken while the vCPU was parked; otherwise null.</param>
public sealed record ProcessorSnapshot(int Index, bool Paused, ulong InstructionsRetired, IReadOnlyDictionary<string, long> ExitsByReason, VpState? State);
