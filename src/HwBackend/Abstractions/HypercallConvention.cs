namespace Actors.HwBackend.Abstractions;

/// <summary>
/// How an enlightened guest calls the hypervisor, the same on every backend. The hypercall page
/// holds <c>OUT <see cref="Port"/>, AL; RET</c> rather than VMCALL: with the local APIC in user
/// space, KVM never hands a VMCALL to user space (it answers it as one of its own paravirtual
/// calls), while a port write exits on both backends and changes no register. The page is the same
/// bytes on both, so a running guest can move between them. Only a one-byte OUT at CPL 0 in
/// protected mode with the guest's hypercall interface enabled is a call; otherwise the port is an
/// ordinary port with nothing behind it (a write vanishes, a read floats to all-ones). The software
/// CPU also still takes VMCALL/VMMCALL as a call. Registers (TLFS): 64-bit code passes the input
/// value in RCX, the input and output parameters in RDX and R8, and gets the result in RAX; other
/// code EDX:EAX, EBX:ECX, EDI:ESI, and the result in EDX:EAX.
/// </summary>
public static class HypercallConvention
{
    /// <summary>
    /// The port of the hypercall page's OUT: in 0xE0-0xEF, which no PC device of this platform
    /// and none Linux reserves use (0xE9, Bochs' debug console, is left alone).
    /// </summary>
    public const ushort Port = 0xEC;

    /// <summary>The hypercall page's code: <c>OUT imm8, AL</c> to <see cref="Port"/>, then <c>RET</c>.</summary>
    public static ReadOnlySpan<byte> PageCode => [0xE6, (byte)Port, 0xC3];

    private const int Rax = 0, Rcx = 1, Rdx = 2, Rbx = 3, Rsi = 6, Rdi = 7, R8 = 8;
    private const ulong Cr0ProtectionEnable = 1;
    private const ulong EferLongModeActive = 1UL << 10;
    private const ulong RflagsVirtual8086 = 1UL << 17;

    /// <summary>Whether the processor is in 64-bit code (long mode with a 64-bit code segment).</summary>
    public static bool Is64BitCode(in SystemRegisters system) => system.Cs.Long && (system.Efer & EferLongModeActive) != 0;

    /// <summary>Whether the processor may make a hypercall now: protected mode, not virtual-8086, CPL 0 (SS.DPL is the CPL).</summary>
    public static bool MayCall(in SystemRegisters system, ulong rflags) =>
        (system.Cr0 & Cr0ProtectionEnable) != 0 && (rflags & RflagsVirtual8086) == 0 && system.Ss.Dpl == 0;

    /// <summary>
    /// The input value and the input and output parameters, from the registers of the convention in force.
    /// <paramref name="gprs"/> is RAX..R15 in encoding order (a <see cref="GeneralPurposeRegisterFile"/> or a CPU's own).
    /// </summary>
    public static (ulong Input, ulong InputParameter, ulong OutputParameter) Arguments(ReadOnlySpan<ulong> gprs, bool is64BitCode) =>
        is64BitCode
            ? (gprs[Rcx], gprs[Rdx], gprs[R8])
            : (Join(gprs[Rdx], gprs[Rax]), Join(gprs[Rbx], gprs[Rcx]), Join(gprs[Rdi], gprs[Rsi]));

    /// <summary>Puts the result value where the convention in force returns it, in RAX..R15 as <see cref="Arguments"/> reads them.</summary>
    public static void SetResult(Span<ulong> gprs, bool is64BitCode, ulong result)
    {
        if (is64BitCode)
        {
            gprs[Rax] = result;
        }
        else
        {
            gprs[Rdx] = result >> 32;
            gprs[Rax] = (uint)result;
        }
    }

    private static ulong Join(ulong high, ulong low) => (high << 32) | (uint)low;
}
