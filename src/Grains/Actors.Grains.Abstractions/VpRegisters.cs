namespace Actors.Grains;

/// <summary>The registers a user looks at first (the full state stays with the backend).</summary>
/// <param name="Gprs">The 16 general-purpose registers, RAX to R15 in encoding order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15).</param>
/// <param name="Rip">The instruction pointer.</param>
/// <param name="Rflags">The flags register.</param>
/// <param name="Cr0">Control register 0 (protection, paging).</param>
/// <param name="Cr3">Control register 3 (the page table's physical address).</param>
/// <param name="Cr4">Control register 4 (PAE and other extensions).</param>
/// <param name="Efer">The extended feature enable register (long mode, SYSCALL).</param>
/// <param name="Cs">The code segment's selector.</param>
[GenerateSerializer]
[Alias("Actors.VpRegisters")]
public sealed record VpRegisters(
    [property: Id(0)] ulong[] Gprs,
    [property: Id(1)] ulong Rip,
    [property: Id(2)] ulong Rflags,
    [property: Id(3)] ulong Cr0,
    [property: Id(4)] ulong Cr3,
    [property: Id(5)] ulong Cr4,
    [property: Id(6)] ulong Efer,
    [property: Id(7)] ushort Cs);
