using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// One decoded instruction in a block: the handler to run and its operands, pre-extracted from
/// Iced's <see cref="Instruction"/> so the handler reads plain fields. The Iced form is kept for
/// the rarely-run generic handlers. Lives in native memory; a handler gets a pointer to it.
/// </summary>
internal unsafe struct Op
{
    /// <summary>Returns <see cref="Handler.Continue"/>, <see cref="Handler.EndBlock"/> (RIP set) or <see cref="Handler.Exit"/> (RIP set, exit pending).</summary>
    public delegate*<Cpu, Op*, int> Fn;

    /// <summary>Immediate, branch target, or second operand constant.</summary>
    public ulong Imm;

    /// <summary>Memory displacement; for RIP-relative operands the absolute address.</summary>
    public ulong Disp;

    /// <summary>Address-size mask applied to base + index + displacement.</summary>
    public ulong AddrMask;

    public ulong NextIp;

    /// <summary>First and second register operands (for 8-bit forms 16..19 are AH..BH).</summary>
    public byte R1, R2;

    /// <summary>Memory base and index register numbers; <see cref="Cpu.ZeroReg"/> when absent.</summary>
    public byte Base, Index;

    public byte Scale;

    /// <summary>Segment register index (ES=0 .. GS=5) of the memory operand.</summary>
    public byte Seg;

    public byte Length;

    /// <summary>Handler-specific small value (condition code, count source...).</summary>
    public byte Aux;

    /// <summary>Kinds of operands 0..2: <see cref="OperandKind"/> values.</summary>
    public byte K0, K1, K2;

    /// <summary>Size of operand 0 in bytes (the instruction's operand size for most integer instructions).</summary>
    public byte OpSize;

    /// <summary>Register number of operand 2 when it is a register (three-operand forms).</summary>
    public byte R3;

    /// <summary>Ops from this one to the end of its block, this one included (0 for the sentinel): what a fault or an exit here leaves unretired.</summary>
    public byte LeftInBlock;

    public Instruction Instr;

    public readonly ulong Ip => NextIp - Length;
}

/// <summary>How an operand is encoded in an <see cref="Op"/>.</summary>
internal static class OperandKind
{
    public const byte Register = 0, Memory = 1, Immediate = 2, None = 3, Other = 4;
}

/// <summary>Handler return codes and the address computation every memory handler shares.</summary>
internal static unsafe class Handler
{
    public const int Continue = 0;
    public const int EndBlock = 1;
    public const int Exit = 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Ea(Cpu c, Op* op) =>
        (((c.Regs[op->Base] + (c.Regs[op->Index] << op->Scale) + op->Disp) & op->AddrMask) + c.SegBase[op->Seg]) & c.LinearMask;

    /// <summary>Ends the block after a write that invalidated code or needs an MMIO exit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AfterWrite(Cpu c, Op* op) => AfterWrite(c, op->NextIp);

    /// <summary>Ends the block at <paramref name="nextIp"/> after a write that invalidated code or needs an MMIO exit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AfterWrite(Cpu c, ulong nextIp)
    {
        int e = c.WriteEvent;
        if (e == 0) return Continue;
        c.WriteEvent = 0;
        c.Rip = nextIp;
        return e;
    }

    /// <summary>Ends the block at the next instruction (after mode, flag or table changes the block assumed constant).</summary>
    public static int Next(Cpu c, Op* op)
    {
        c.Rip = op->NextIp;
        int e = c.WriteEvent;
        c.WriteEvent = 0;
        return e > EndBlock ? e : EndBlock;
    }
}
