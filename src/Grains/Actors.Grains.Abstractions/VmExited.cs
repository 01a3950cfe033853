namespace Actors.Grains;

/// <summary>How a VM's run ended, reported by its host's backend to the partition.</summary>
/// <param name="Reason">Why the run ended: "debug-exit", "acpi-poweroff", "reset ...", "triple fault", or a failure's message.</param>
/// <param name="ExitStatus">The QEMU-style status: (value &lt;&lt; 1) | 1 for a write of value to isa-debug-exit, 0 for an ACPI power-off; null otherwise.</param>
/// <param name="Failed">Whether the machine broke (triple fault, internal error, its host went away) rather than finished.</param>
/// <param name="InstructionsRetired">Instructions the VM's vCPUs retired over the run, on every host it ran on.</param>
/// <param name="ConsoleBytes">Bytes the guest wrote to its serial console over the run.</param>
/// <param name="Unimplemented">What the guest used that is not implemented, one line each; null for nothing.</param>
[GenerateSerializer]
[Alias("Actors.VmExited")]
public sealed record VmExited(
    [property: Id(0)] string Reason,
    [property: Id(1)] int? ExitStatus,
    [property: Id(2)] bool Failed,
    [property: Id(3)] ulong InstructionsRetired,
    [property: Id(4)] long ConsoleBytes = 0,
    [property: Id(5)] IReadOnlyList<string>? Unimplemented = null);
