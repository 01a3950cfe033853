using System.Runtime.CompilerServices;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST in every operand form, and the one-operand INC, DEC,
/// NOT, NEG. Forms: RR = reg, reg; RM = reg, [mem]; MR = [mem], reg; RI = reg, imm; MI = [mem], imm.
/// LOCK-prefixed memory forms go through a compare-exchange loop so they stay atomic across vCPUs.
/// </summary>
internal static unsafe class AluHandlers
{
    public static int RR<S, O>(Cpu c, Op* op) where S : IOperandSize where O : IAluOp
    {
        RR<S, O, FlagsLive>(c, c.Regs, op->R1, op->R2);
        return Handler.Continue;
    }

    [Translates(nameof(RR), Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RR<S, O, F>(Cpu c, ulong* regs, int r1, int r2) where S : IOperandSize where O : IAluOp where F : IFlagsMode
    {
        ulong r = Apply<S, O, F>(c, S.ReadReg(regs, r1), S.ReadReg(regs, r2));
        if (O.WritesResult) S.WriteReg(regs, r1, r);
    }

    public static int RI<S, O>(Cpu c, Op* op) where S : IOperandSize where O : IAluOp
    {
        RI<S, O, FlagsLive>(c, c.Regs, op->R1, op->Imm);
        return Handler.Continue;
    }

    [Translates(nameof(RI), Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RI<S, O, F>(Cpu c, ulong* regs, int r1, ulong imm) where S : IOperandSize where O : IAluOp where F : IFlagsMode
    {
        ulong r = Apply<S, O, F>(c, S.ReadReg(regs, r1), imm);
        if (O.WritesResult) S.WriteReg(regs, r1, r);
    }

    public static int RM<S, O>(Cpu c, Op* op) where S : IOperandSize where O : IAluOp
    {
        RM<S, O, FlagsLive>(c, c.Regs, op->R1, Handler.Ea(c, op));
        return Handler.Continue;
    }

    [Translates(nameof(RM), Faults = true, Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RM<S, O, F>(Cpu c, ulong* regs, int r1, ulong la) where S : IOperandSize where O : IAluOp where F : IFlagsMode
    {
        ulong r = Apply<S, O, F>(c, S.ReadReg(regs, r1), S.Read(c, la));
        if (O.WritesResult) S.WriteReg(regs, r1, r);
    }

    public static int MR<S, O>(Cpu c, Op* op) where S : IOperandSize where O : IAluOp =>
        MR<S, O, FlagsLive>(c, c.Regs, Handler.Ea(c, op), op->R2, op->NextIp);

    [Translates(nameof(MR), Faults = true, Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MR<S, O, F>(Cpu c, ulong* regs, ulong la, int r2, ulong nextIp) where S : IOperandSize where O : IAluOp where F : IFlagsMode
    {
        ulong r = Apply<S, O, F>(c, S.Read(c, la), S.ReadReg(regs, r2));
        if (!O.WritesResult) return Handler.Continue;
        S.Write(c, la, r);
        return Handler.AfterWrite(c, nextIp);
    }

    public static int MI<S, O>(Cpu c, Op* op) where S : IOperandSize where O : IAluOp =>
        MI<S, O, FlagsLive>(c, Handler.Ea(c, op), op->Imm, op->NextIp);

    [Translates(nameof(MI), Faults = true, Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MI<S, O, F>(Cpu c, ulong la, ulong imm, ulong nextIp) where S : IOperandSize where O : IAluOp where F : IFlagsMode
    {
        ulong r = Apply<S, O, F>(c, S.Read(c, la), imm);
        if (!O.WritesResult) return Handler.Continue;
        S.Write(c, la, r);
        return Handler.AfterWrite(c, nextIp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Apply<S, O, F>(Cpu c, ulong a, ulong b) where S : IOperandSize where O : IAluOp where F : IFlagsMode =>
        F.Live ? O.Apply<S>(c, a, b) : O.Compute<S>(c, a, b);

    /// <summary>LOCK op [mem], reg/imm: source is R2 when K1 is a register, else the immediate.</summary>
    public static int Locked<S, O>(Cpu c, Op* op) where S : IOperandSize where O : IAluOp
    {
        ulong la = Handler.Ea(c, op);
        ulong b = op->K1 == OperandKind.Register ? S.ReadReg(c, op->R2) : op->Imm;
        byte* p = c.TryWritablePointer(la, S.Bits / 8);
        if (p == null)
        {
            S.Write(c, la, O.Apply<S>(c, S.Read(c, la), b));
            return Handler.AfterWrite(c, op);
        }
        while (true)
        {
            ulong old = Atomic.Load<S>(p);
            ulong r = O.Apply<S>(c, old, b);
            if (Atomic.CompareExchange<S>(p, old, r)) break;
        }
        return Handler.AfterWrite(c, op);
    }

    // One-operand forms. Aux selects the operation: 0 INC, 1 DEC, 2 NOT, 3 NEG.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Unary<S>(Cpu c, int kind, ulong a) where S : IOperandSize
    {
        switch (kind)
        {
            case 0:
                {
                    ulong r = a + 1;
                    c.SetFlagsIncDec<S>((a & 1) | (a & ~r), r);
                    return r;
                }
            case 1:
                {
                    ulong r = a - 1;
                    c.SetFlagsIncDec<S>((~a & 1) | (~a & r), r);
                    return r;
                }
            case 2:
                return ~a;
            default:
                {
                    ulong r = 0 - a;
                    c.SetFlagsSub<S>(0, a, r);
                    return r;
                }
        }
    }

    public static int NotR<S>(Cpu c, Op* op) where S : IOperandSize
    {
        NotR<S>(c, c.Regs, op->R1);
        return Handler.Continue;
    }

    /// <summary>NOT r: no flags.</summary>
    [Translates(nameof(NotR))]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NotR<S>(Cpu c, ulong* regs, int r1) where S : IOperandSize => S.WriteReg(regs, r1, ~S.ReadReg(regs, r1));

    public static int NegR<S>(Cpu c, Op* op) where S : IOperandSize
    {
        NegR<S, FlagsLive>(c, c.Regs, op->R1);
        return Handler.Continue;
    }

    /// <summary>NEG r: the flags of 0 - r.</summary>
    [Translates(nameof(NegR), Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NegR<S, F>(Cpu c, ulong* regs, int r1) where S : IOperandSize where F : IFlagsMode
    {
        ulong a = S.ReadReg(regs, r1), r = 0 - a;
        if (F.Live) c.SetFlagsSub<S>(0, a, r);
        S.WriteReg(regs, r1, r);
    }

    public static int IncR<S>(Cpu c, Op* op) where S : IOperandSize
    {
        IncR<S, FlagsLive>(c, c.Regs, op->R1);
        return Handler.Continue;
    }

    [Translates(nameof(IncR), Flags = FlagEffect.Reads)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void IncR<S, F>(Cpu c, ulong* regs, int r1) where S : IOperandSize where F : IFlagsMode
    {
        ulong a = S.ReadReg(regs, r1), r = a + 1;
        if (F.Live) c.SetFlagsIncDec<S>((a & 1) | (a & ~r), r);
        S.WriteReg(regs, r1, r);
    }

    public static int DecR<S>(Cpu c, Op* op) where S : IOperandSize
    {
        DecR<S, FlagsLive>(c, c.Regs, op->R1);
        return Handler.Continue;
    }

    [Translates(nameof(DecR), Flags = FlagEffect.Reads)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void DecR<S, F>(Cpu c, ulong* regs, int r1) where S : IOperandSize where F : IFlagsMode
    {
        ulong a = S.ReadReg(regs, r1), r = a - 1;
        if (F.Live) c.SetFlagsIncDec<S>((~a & 1) | (~a & r), r);
        S.WriteReg(regs, r1, r);
    }

    public static int IncM<S>(Cpu c, Op* op) where S : IOperandSize => IncM<S, FlagsLive>(c, Handler.Ea(c, op), op->NextIp);

    /// <summary>INC [mem] without LOCK (a locked one is <see cref="UnaryM"/>'s).</summary>
    [Translates(nameof(IncM), Faults = true, Flags = FlagEffect.Reads)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IncM<S, F>(Cpu c, ulong la, ulong nextIp) where S : IOperandSize where F : IFlagsMode
    {
        ulong a = S.Read(c, la), r = a + 1;
        S.Write(c, la, r);
        if (F.Live) c.SetFlagsIncDec<S>((a & 1) | (a & ~r), r);
        return Handler.AfterWrite(c, nextIp);
    }

    public static int DecM<S>(Cpu c, Op* op) where S : IOperandSize => DecM<S, FlagsLive>(c, Handler.Ea(c, op), op->NextIp);

    /// <summary>DEC [mem] without LOCK (a locked one is <see cref="UnaryM"/>'s).</summary>
    [Translates(nameof(DecM), Faults = true, Flags = FlagEffect.Reads)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DecM<S, F>(Cpu c, ulong la, ulong nextIp) where S : IOperandSize where F : IFlagsMode
    {
        ulong a = S.Read(c, la), r = a - 1;
        S.Write(c, la, r);
        if (F.Live) c.SetFlagsIncDec<S>((~a & 1) | (~a & r), r);
        return Handler.AfterWrite(c, nextIp);
    }

    public static int UnaryM<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong la = Handler.Ea(c, op);
        if (op->Instr.HasLockPrefix)
        {
            byte* p = c.TryWritablePointer(la, S.Bits / 8);
            if (p != null)
            {
                while (true)
                {
                    ulong old = Atomic.Load<S>(p);
                    ulong r = Unary<S>(c, op->Aux, old);
                    if (Atomic.CompareExchange<S>(p, old, r)) return Handler.AfterWrite(c, op);
                }
            }
        }
        S.Write(c, la, Unary<S>(c, op->Aux, S.Read(c, la)));
        return Handler.AfterWrite(c, op);
    }
}
