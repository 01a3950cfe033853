using System.Runtime.CompilerServices;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>MOV, MOVZX, MOVSX(D), LEA, XCHG, CMOVcc, SETcc, BSWAP, the sign-extension family, LAHF/SAHF and the flag instructions.</summary>
internal static unsafe class MoveHandlers
{
    public static int MovRR<S>(Cpu c, Op* op) where S : IOperandSize
    {
        MovRR<S>(c, c.Regs, op->R1, op->R2);
        return Handler.Continue;
    }

    [Translates(nameof(MovRR))]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MovRR<S>(Cpu c, ulong* regs, int r1, int r2) where S : IOperandSize => S.WriteReg(regs, r1, S.ReadReg(regs, r2));

    public static int MovRI<S>(Cpu c, Op* op) where S : IOperandSize
    {
        MovRI<S>(c, c.Regs, op->R1, op->Imm);
        return Handler.Continue;
    }

    [Translates(nameof(MovRI))]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MovRI<S>(Cpu c, ulong* regs, int r1, ulong imm) where S : IOperandSize => S.WriteReg(regs, r1, imm);

    public static int MovRM<S>(Cpu c, Op* op) where S : IOperandSize
    {
        MovRM<S>(c, c.Regs, op->R1, Handler.Ea(c, op));
        return Handler.Continue;
    }

    [Translates(nameof(MovRM), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MovRM<S>(Cpu c, ulong* regs, int r1, ulong la) where S : IOperandSize => S.WriteReg(regs, r1, S.Read(c, la));

    public static int MovMR<S>(Cpu c, Op* op) where S : IOperandSize => MovMR<S>(c, c.Regs, Handler.Ea(c, op), op->R2, op->NextIp);

    [Translates(nameof(MovMR), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovMR<S>(Cpu c, ulong* regs, ulong la, int r2, ulong nextIp) where S : IOperandSize
    {
        S.Write(c, la, S.ReadReg(regs, r2));
        return Handler.AfterWrite(c, nextIp);
    }

    public static int MovMI<S>(Cpu c, Op* op) where S : IOperandSize => MovMI<S>(c, Handler.Ea(c, op), op->Imm, op->NextIp);

    [Translates(nameof(MovMI), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovMI<S>(Cpu c, ulong la, ulong imm, ulong nextIp) where S : IOperandSize
    {
        S.Write(c, la, imm);
        return Handler.AfterWrite(c, nextIp);
    }

    /// <summary>MOVZX/MOVSX/MOVSXD: D = destination size, Src = source size, Aux = 1 for sign extension.</summary>
    public static int ExtendR<D, Src>(Cpu c, Op* op) where D : IOperandSize where Src : IOperandSize
    {
        ExtendR<D, Src>(c, c.Regs, op->R1, op->R2, op->Aux);
        return Handler.Continue;
    }

    [Translates(nameof(ExtendR))]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ExtendR<D, Src>(Cpu c, ulong* regs, int r1, int r2, int aux) where D : IOperandSize where Src : IOperandSize
    {
        ulong v = Src.ReadReg(regs, r2);
        D.WriteReg(regs, r1, aux != 0 ? Src.SignExtend(v) : v);
    }

    public static int ExtendM<D, Src>(Cpu c, Op* op) where D : IOperandSize where Src : IOperandSize
    {
        ExtendM<D, Src>(c, c.Regs, op->R1, Handler.Ea(c, op), op->Aux);
        return Handler.Continue;
    }

    [Translates(nameof(ExtendM), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ExtendM<D, Src>(Cpu c, ulong* regs, int r1, ulong la, int aux) where D : IOperandSize where Src : IOperandSize
    {
        ulong v = Src.Read(c, la);
        D.WriteReg(regs, r1, aux != 0 ? Src.SignExtend(v) : v);
    }

    /// <summary>LEA computes the offset only: no segment base, truncated to the operand size.</summary>
    public static int Lea<S>(Cpu c, Op* op) where S : IOperandSize
    {
        Lea<S>(c, c.Regs, op->R1, (c.Regs[op->Base] + (c.Regs[op->Index] << op->Scale) + op->Disp) & op->AddrMask);
        return Handler.Continue;
    }

    [Translates(nameof(Lea))]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Lea<S>(Cpu c, ulong* regs, int r1, ulong offset) where S : IOperandSize => S.WriteReg(regs, r1, offset);

    public static int XchgRR<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong a = S.ReadReg(c, op->R1), b = S.ReadReg(c, op->R2);
        S.WriteReg(c, op->R1, b);
        S.WriteReg(c, op->R2, a);
        return Handler.Continue;
    }

    /// <summary>XCHG with memory is always locked. Operand 0 is memory, R2 the register.</summary>
    public static int XchgMR<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong la = Handler.Ea(c, op);
        ulong v = S.ReadReg(c, op->R2);
        byte* p = c.TryWritablePointer(la, S.Bits / 8);
        ulong old;
        if (p != null)
        {
            old = Atomic.Exchange<S>(p, v);
        }
        else
        {
            old = S.Read(c, la);
            S.Write(c, la, v);
        }
        S.WriteReg(c, op->R2, old);
        return Handler.AfterWrite(c, op);
    }

    /// <summary>CMOVcc: the source is read (and may fault) whatever the condition; a 32-bit destination is zero-extended even when false.</summary>
    public static int CmovRR<S, C>(Cpu c, Op* op) where S : IOperandSize where C : ICondition
    {
        CmovRR<S, C>(c, c.Regs, op->R1, op->R2);
        return Handler.Continue;
    }

    /// <summary>CMOVcc r, r: the destination is written either way (a 32-bit one zero-extends even when the condition fails).</summary>
    [Translates(nameof(CmovRR), Flags = FlagEffect.Reads)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CmovRR<S, C>(Cpu c, ulong* regs, int r1, int r2) where S : IOperandSize where C : ICondition =>
        S.WriteReg(regs, r1, S.ReadReg(regs, C.Test(c) ? r2 : r1));

    public static int CmovRM<S, C>(Cpu c, Op* op) where S : IOperandSize where C : ICondition
    {
        CmovRM<S, C>(c, c.Regs, op->R1, Handler.Ea(c, op));
        return Handler.Continue;
    }

    /// <summary>CMOVcc r, [mem]: the source is read (and may fault) whether or not the condition holds.</summary>
    [Translates(nameof(CmovRM), Faults = true, Flags = FlagEffect.Reads)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CmovRM<S, C>(Cpu c, ulong* regs, int r1, ulong la) where S : IOperandSize where C : ICondition
    {
        ulong v = S.Read(c, la);
        S.WriteReg(regs, r1, C.Test(c) ? v : S.ReadReg(regs, r1));
    }

    public static int SetccR<C>(Cpu c, Op* op) where C : ICondition
    {
        SetccR<C>(c, c.Regs, op->R1);
        return Handler.Continue;
    }

    /// <summary>SETcc r8.</summary>
    [Translates(nameof(SetccR), Flags = FlagEffect.Reads)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetccR<C>(Cpu c, ulong* regs, int r1) where C : ICondition => Size8.WriteReg(regs, r1, C.Test(c) ? 1UL : 0UL);

    /// <summary>SETcc [mem]; Aux is the condition.</summary>
    public static int SetccM(Cpu c, Op* op)
    {
        c.Write8(Handler.Ea(c, op), c.Condition(op->Aux) ? (byte)1 : (byte)0);
        return Handler.AfterWrite(c, op);
    }

    public static int Bswap<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong v = S.ReadReg(c, op->R1);
        ulong r = S.Bits switch
        {
            64 => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v),
            32 => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v),
            _ => 0, // BSWAP of a 16-bit register is undefined; Intel and AMD both give zero
        };
        S.WriteReg(c, op->R1, r);
        return Handler.Continue;
    }

    /// <summary>CBW/CWDE/CDQE: sign-extend the lower half of the accumulator into the whole (S is the destination size).</summary>
    public static int ExtendAccumulator<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong a = c.Regs[Cpu.RAX];
        ulong r = S.Bits switch
        {
            16 => (ulong)(long)(sbyte)a,
            32 => (ulong)(long)(short)a,
            _ => (ulong)(long)(int)a,
        };
        S.WriteReg(c, Cpu.RAX, r);
        return Handler.Continue;
    }

    /// <summary>CWD/CDQ/CQO: fill rDX with the sign of rAX.</summary>
    public static int SignToDx<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong a = S.ReadReg(c, Cpu.RAX);
        S.WriteReg(c, Cpu.RDX, (long)S.SignExtend(a) < 0 ? ulong.MaxValue : 0);
        return Handler.Continue;
    }

    public static int Lahf(Cpu c, Op* op)
    {
        Size8.WriteReg(c, 16, (byte)(c.GetArithmeticFlags() & 0xD5) | 2UL);
        return Handler.Continue;
    }

    public static int Sahf(Cpu c, Op* op)
    {
        ulong ah = Size8.ReadReg(c, 16) & 0xD5;
        c.SetArithmeticFlags((c.GetArithmeticFlags() & RflagsBits.OF) | ah);
        return Handler.Continue;
    }

    /// <summary>CLC, STC, CMC (Aux 0, 1, 2); CLD, STD (Aux 3, 4).</summary>
    public static int FlagOp(Cpu c, Op* op)
    {
        switch (op->Aux)
        {
            case 0: c.SetCarryOnly(false); break;
            case 1: c.SetCarryOnly(true); break;
            case 2: c.SetCarryOnly(!c.CF); break;
            case 3: c.FlagsOther &= ~RflagsBits.DF; break;
            default: c.FlagsOther |= RflagsBits.DF; break;
        }
        return Handler.Continue;
    }

    public static int Nop(Cpu c, Op* op)
    {
        Nop();
        return Handler.Continue;
    }

    /// <summary>Nothing: translated code has no trace of a NOP.</summary>
    [Translates(nameof(Nop))]
    public static void Nop()
    {
    }

    /// <summary>XLAT: AL = [seg:rBX + AL].</summary>
    public static int Xlat(Cpu c, Op* op)
    {
        ulong la = (((c.Regs[op->Base] + (byte)c.Regs[Cpu.RAX]) & op->AddrMask) + c.SegBase[op->Seg]) & c.LinearMask;
        Size8.WriteReg(c, Cpu.RAX, c.Read8(la));
        return Handler.Continue;
    }
}
