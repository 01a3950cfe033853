using System.Runtime.CompilerServices;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// MUL, IMUL (one, two and three operands), DIV, IDIV. CF = OF = "the high half is significant";
/// SF, ZF, AF, PF are undefined and follow the low result. Division by zero and quotient overflow raise #DE.
/// </summary>
internal static unsafe class MulDivHandlers
{
    private static ulong Source<S>(Cpu c, Op* op, int k, byte reg) where S : IOperandSize =>
        k == OperandKind.Memory ? S.Read(c, Handler.Ea(c, op)) : S.ReadReg(c, reg);

    /// <summary>One-operand MUL (Aux 0) / IMUL (Aux 1): rDX:rAX = rAX * r/m (AX = AL * r/m8).</summary>
    public static int Mul1<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong b = Source<S>(c, op, op->K0, op->R1);
        ulong a = S.ReadReg(c, Cpu.RAX);
        bool signed = op->Aux != 0;
        ulong lo, hi;
        bool overflow;
        if (S.Bits == 64)
        {
            if (signed)
            {
                Int128 p = (Int128)(long)a * (long)b;
                lo = (ulong)p;
                hi = (ulong)(p >> 64);
                overflow = p != (Int128)(long)lo;
            }
            else
            {
                hi = Math.BigMul(a, b, out lo);
                overflow = hi != 0;
            }
        }
        else if (signed)
        {
            long p = (long)S.SignExtend(a) * (long)S.SignExtend(b);
            lo = (ulong)p & S.Mask;
            hi = ((ulong)p >> S.Bits) & S.Mask;
            overflow = (long)S.SignExtend(lo) != p;
        }
        else
        {
            ulong p = a * b;
            lo = p & S.Mask;
            hi = (p >> S.Bits) & S.Mask;
            overflow = hi != 0;
        }
        if (S.Bits == 8)
        {
            Size16.WriteReg(c, Cpu.RAX, lo | (hi << 8));
        }
        else
        {
            S.WriteReg(c, Cpu.RAX, lo);
            S.WriteReg(c, Cpu.RDX, hi);
        }
        c.SetFlagsResultCfOf<S>(lo, overflow, overflow);
        return Handler.Continue;
    }

    public static int ImulRR<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ImulRR<S, FlagsLive>(c, c.Regs, op->R1, op->R2);
        return Handler.Continue;
    }

    /// <summary>IMUL r, r.</summary>
    [Translates(nameof(ImulRR), Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ImulRR<S, F>(Cpu c, ulong* regs, int r1, int r2) where S : IOperandSize where F : IFlagsMode =>
        S.WriteReg(regs, r1, SignedProduct<S, F>(c, S.ReadReg(regs, r1), S.ReadReg(regs, r2)));

    public static int ImulRM<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ImulRM<S, FlagsLive>(c, c.Regs, op->R1, Handler.Ea(c, op));
        return Handler.Continue;
    }

    /// <summary>IMUL r, [mem].</summary>
    [Translates(nameof(ImulRM), Faults = true, Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ImulRM<S, F>(Cpu c, ulong* regs, int r1, ulong la) where S : IOperandSize where F : IFlagsMode =>
        S.WriteReg(regs, r1, SignedProduct<S, F>(c, S.ReadReg(regs, r1), S.Read(c, la)));

    public static int ImulRRI<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ImulRRI<S, FlagsLive>(c, c.Regs, op->R1, op->R2, op->Imm);
        return Handler.Continue;
    }

    /// <summary>IMUL r, r, imm.</summary>
    [Translates(nameof(ImulRRI), Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ImulRRI<S, F>(Cpu c, ulong* regs, int r1, int r2, ulong imm) where S : IOperandSize where F : IFlagsMode =>
        S.WriteReg(regs, r1, SignedProduct<S, F>(c, S.ReadReg(regs, r2), imm));

    public static int ImulRMI<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ImulRMI<S, FlagsLive>(c, c.Regs, op->R1, Handler.Ea(c, op), op->Imm);
        return Handler.Continue;
    }

    /// <summary>IMUL r, [mem], imm.</summary>
    [Translates(nameof(ImulRMI), Faults = true, Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ImulRMI<S, F>(Cpu c, ulong* regs, int r1, ulong la, ulong imm) where S : IOperandSize where F : IFlagsMode =>
        S.WriteReg(regs, r1, SignedProduct<S, F>(c, S.Read(c, la), imm));

    /// <summary>The truncated signed product of the multi-operand IMULs; CF and OF say whether it was truncated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SignedProduct<S, F>(Cpu c, ulong a, ulong b) where S : IOperandSize where F : IFlagsMode
    {
        ulong lo;
        bool overflow;
        if (S.Bits == 64)
        {
            lo = (ulong)((long)a * (long)b);
            overflow = F.Live && Math.BigMul((long)a, (long)b, out _) != ((long)lo >> 63);
        }
        else
        {
            long p = (long)S.SignExtend(a) * (long)S.SignExtend(b);
            lo = (ulong)p & S.Mask;
            overflow = (long)S.SignExtend(lo) != p;
        }

        if (F.Live)
            c.SetFlagsResultCfOf<S>(lo, overflow, overflow);
        return lo;
    }

    /// <summary>DIV (Aux 0) / IDIV (Aux 1): rAX = rDX:rAX / r/m, rDX = remainder (AL/AH for bytes).</summary>
    public static int Div<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong divisor = Source<S>(c, op, op->K0, op->R1);
        if (divisor == 0) throw new CpuFault(ExceptionVector.DE, 0, false);
        ulong lo = S.Bits == 8 ? (ushort)c.Regs[Cpu.RAX] : S.ReadReg(c, Cpu.RAX);
        ulong hi = S.Bits == 8 ? 0 : S.ReadReg(c, Cpu.RDX);
        ulong q, r;
        if (op->Aux == 0)
        {
            UInt128 dividend = S.Bits == 8 ? lo : ((UInt128)hi << S.Bits) | lo;
            UInt128 qq = dividend / divisor;
            if (qq > S.Mask) throw new CpuFault(ExceptionVector.DE, 0, false);
            q = (ulong)qq;
            r = (ulong)(dividend % divisor);
        }
        else
        {
            Int128 dividend = S.Bits switch
            {
                8 => (short)lo,
                16 => (int)((hi << 16) | lo),
                32 => (long)((hi << 32) | lo),
                _ => (Int128)(((UInt128)hi << 64) | lo),
            };
            Int128 d = (long)S.SignExtend(divisor);
            // The one quotient Int128 itself cannot represent (MinValue / -1) overflows on hardware too.
            if (d == -1 && dividend == Int128.MinValue) throw new CpuFault(ExceptionVector.DE, 0, false);
            Int128 qq = dividend / d;
            long min = -(1L << (S.Bits - 1)), max = S.Bits == 64 ? long.MaxValue : (1L << (S.Bits - 1)) - 1;
            if (qq < min || qq > max) throw new CpuFault(ExceptionVector.DE, 0, false);
            q = (ulong)(long)qq & S.Mask;
            r = (ulong)(long)(dividend % d) & S.Mask;
        }
        if (S.Bits == 8)
        {
            Size16.WriteReg(c, Cpu.RAX, (q & 0xFF) | ((r & 0xFF) << 8));
        }
        else
        {
            S.WriteReg(c, Cpu.RAX, q);
            S.WriteReg(c, Cpu.RDX, r);
        }
        return Handler.Continue;
    }
}
