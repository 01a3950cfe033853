namespace Actors.HwBackend.Worker;

/// <summary>Why a guest stopped by itself.</summary>
/// <param name="Reason">"debug-exit", "triple fault", "internal error: ...".</param>
/// <param name="ExitStatus">The isa-debug-exit status, (v &lt;&lt; 1) | 1; null for other reasons.</param>
/// <param name="Failed">The machine broke (triple fault, internal error) rather than finished.</param>
/// <param name="InstructionsRetired">Instructions all vCPUs retired over the VM's life.</param>
public sealed record VmRunEnded(string Reason, int? ExitStatus, bool Failed, ulong InstructionsRetired);
