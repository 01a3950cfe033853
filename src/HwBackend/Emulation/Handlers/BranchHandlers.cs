using System.Runtime.CompilerServices;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>Near JMP, Jcc, CALL, RET, LOOP and JrCXZ. Every one ends its block with RIP set. Imm holds a direct target.</summary>
internal static unsafe class BranchHandlers
{
    public static int Jmp(Cpu c, Op* op) => Jmp(c, op->Imm);

    [Translates(nameof(Jmp))]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Jmp(Cpu c, ulong imm)
    {
        c.Rip = imm;
        return Handler.EndBlock;
    }

    /// <summary>Jcc, specialised per condition.</summary>
    public static int JccT<C>(Cpu c, Op* op) where C : ICondition => JccT<C>(c, op->Imm, op->NextIp);

    [Translates(nameof(JccT), Flags = FlagEffect.Reads)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int JccT<C>(Cpu c, ulong imm, ulong nextIp) where C : ICondition
    {
        c.Rip = C.Test(c) ? imm : nextIp;
        return Handler.EndBlock;
    }

    private static ulong IndirectTarget(Cpu c, Op* op) =>
        op->K0 == OperandKind.Memory ? c.ReadSized(Handler.Ea(c, op), op->OpSize) : c.ReadReg(op->R1, op->OpSize);

    public static int JmpR<S>(Cpu c, Op* op) where S : IOperandSize => JmpR<S>(c, c.Regs, op->R1);

    /// <summary>JMP r: RIP = the register, in the operand size.</summary>
    [Translates(nameof(JmpR))]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int JmpR<S>(Cpu c, ulong* regs, int r1) where S : IOperandSize
    {
        c.Rip = S.ReadReg(regs, r1);
        return Handler.EndBlock;
    }

    public static int JmpM<S>(Cpu c, Op* op) where S : IOperandSize => JmpM<S>(c, Handler.Ea(c, op));

    /// <summary>JMP [mem]: RIP = the memory operand, in the operand size.</summary>
    [Translates(nameof(JmpM), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int JmpM<S>(Cpu c, ulong la) where S : IOperandSize
    {
        c.Rip = S.Read(c, la);
        return Handler.EndBlock;
    }

    public static int Call64(Cpu c, Op* op) => Call64(c, c.Regs, op->Imm, op->NextIp);

    [Translates(nameof(Call64), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Call64(Cpu c, ulong* regs, ulong imm, ulong nextIp)
    {
        ulong sp = regs[Cpu.RSP] - 8;
        c.Write64(sp, nextIp);
        regs[Cpu.RSP] = sp;
        c.Rip = imm;
        return Handler.EndBlock;
    }

    public static int Call32(Cpu c, Op* op) => Call32(c, c.Regs, op->Imm, op->NextIp);

    /// <summary>CALL rel32 in 32-bit code: the flat 32-bit stack inline, any other stack through <see cref="Cpu.PushSized"/>.</summary>
    [Translates(nameof(Call32), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Call32(Cpu c, ulong* regs, ulong imm, ulong nextIp)
    {
        if (c.Segs[Cpu.SS].DefaultBig)
        {
            uint sp = (uint)regs[Cpu.RSP] - 4;
            c.Write32((c.SegBase[Cpu.SS] + sp) & c.LinearMask, (uint)nextIp);
            regs[Cpu.RSP] = sp;
        }
        else
        {
            c.PushSized(nextIp, 4);
        }

        c.Rip = imm;
        return Handler.EndBlock;
    }

    public static int Call(Cpu c, Op* op)
    {
        c.PushSized(op->NextIp, op->OpSize);
        c.Rip = op->Imm;
        return Handler.EndBlock;
    }

    public static int CallIndirect(Cpu c, Op* op)
    {
        ulong target = IndirectTarget(c, op);
        c.PushSized(op->NextIp, op->OpSize);
        c.Rip = target;
        return Handler.EndBlock;
    }

    public static int Ret64(Cpu c, Op* op) => Ret64(c, c.Regs, op->Imm);

    [Translates(nameof(Ret64), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Ret64(Cpu c, ulong* regs, ulong imm)
    {
        ulong sp = regs[Cpu.RSP];
        c.Rip = c.Read64(sp);
        regs[Cpu.RSP] = sp + 8 + imm;
        return Handler.EndBlock;
    }

    public static int Ret32(Cpu c, Op* op) => Ret32(c, c.Regs, op->Imm);

    /// <summary>RET [imm16] in 32-bit code: the flat 32-bit stack inline, any other stack as <see cref="Ret(Cpu, Op*)"/> does.</summary>
    [Translates(nameof(Ret32), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Ret32(Cpu c, ulong* regs, ulong imm)
    {
        if (c.Segs[Cpu.SS].DefaultBig)
        {
            uint sp = (uint)regs[Cpu.RSP];
            c.Rip = c.Read32((c.SegBase[Cpu.SS] + sp) & c.LinearMask);
            regs[Cpu.RSP] = sp + 4u + (uint)imm;
        }
        else
        {
            ulong target = c.PopSized(4);
            c.AdjustStack((long)imm);
            c.Rip = target;
        }

        return Handler.EndBlock;
    }

    public static int Ret(Cpu c, Op* op)
    {
        ulong target = c.PopSized(op->OpSize);
        c.AdjustStack((long)op->Imm);
        c.Rip = target;
        return Handler.EndBlock;
    }

    /// <summary>LOOP/LOOPE/LOOPNE (Aux 0/1/2) and JrCXZ (Aux 3); OpSize is the counter width (address size).</summary>
    public static int Loop(Cpu c, Op* op)
    {
        int size = op->OpSize;
        bool taken;
        if (op->Aux == 3)
        {
            taken = c.ReadReg(Cpu.RCX, size) == 0;
        }
        else
        {
            ulong count = c.ReadReg(Cpu.RCX, size) - 1;
            c.WriteReg(Cpu.RCX, size, count);
            taken = (count & (size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1)) != 0;
            if (op->Aux == 1) taken &= c.ZF;
            else if (op->Aux == 2) taken &= !c.ZF;
        }
        c.Rip = taken ? op->Imm : op->NextIp;
        return Handler.EndBlock;
    }
}
