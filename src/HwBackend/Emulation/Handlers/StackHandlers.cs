using System.Runtime.CompilerServices;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>PUSH, POP, ENTER, LEAVE, PUSHF, POPF. The 64-bit forms are specialised; others use the generic stack path.</summary>
internal static unsafe class StackHandlers
{
    public static int Push64R(Cpu c, Op* op) => Push64R(c, c.Regs, op->R1, op->NextIp);

    [Translates(nameof(Push64R), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Push64R(Cpu c, ulong* regs, int r1, ulong nextIp)
    {
        ulong sp = regs[Cpu.RSP] - 8;
        c.Write64(sp, regs[r1]);
        regs[Cpu.RSP] = sp;
        return Handler.AfterWrite(c, nextIp);
    }

    public static int Pop64R(Cpu c, Op* op)
    {
        Pop64R(c, c.Regs, op->R1);
        return Handler.Continue;
    }

    [Translates(nameof(Pop64R), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pop64R(Cpu c, ulong* regs, int r1)
    {
        ulong sp = regs[Cpu.RSP];
        ulong v = c.Read64(sp);
        regs[Cpu.RSP] = sp + 8;
        regs[r1] = v;
    }

    public static int Push32R(Cpu c, Op* op) => Push32R(c, c.Regs, op->R1, op->NextIp);

    /// <summary>PUSH r32 in 32-bit code: the flat 32-bit stack inline, any other stack through <see cref="Cpu.PushSized"/>.</summary>
    [Translates(nameof(Push32R), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Push32R(Cpu c, ulong* regs, int r1, ulong nextIp)
    {
        uint v = (uint)regs[r1];
        if (c.Segs[Cpu.SS].DefaultBig)
        {
            uint sp = (uint)regs[Cpu.RSP] - 4;
            c.Write32((c.SegBase[Cpu.SS] + sp) & c.LinearMask, v);
            regs[Cpu.RSP] = sp;
        }
        else
        {
            c.PushSized(v, 4);
        }

        return Handler.AfterWrite(c, nextIp);
    }

    public static int Pop32R(Cpu c, Op* op)
    {
        Pop32R(c, c.Regs, op->R1);
        return Handler.Continue;
    }

    /// <summary>POP r32 in 32-bit code (POP ESP ends with the popped value, as the SDM says).</summary>
    [Translates(nameof(Pop32R), Faults = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pop32R(Cpu c, ulong* regs, int r1)
    {
        if (c.Segs[Cpu.SS].DefaultBig)
        {
            uint sp = (uint)regs[Cpu.RSP];
            uint v = c.Read32((c.SegBase[Cpu.SS] + sp) & c.LinearMask);
            regs[Cpu.RSP] = sp + 4u;
            regs[r1] = v;
        }
        else
        {
            regs[r1] = (uint)c.PopSized(4);
        }
    }

    /// <summary>PUSH of a register, immediate or memory operand in any mode; OpSize is the push size.</summary>
    public static int Push(Cpu c, Op* op)
    {
        int size = op->OpSize;
        ulong v = op->K0 switch
        {
            OperandKind.Register => c.ReadReg(op->R1, size),
            OperandKind.Memory => c.ReadSized(Handler.Ea(c, op), size),
            _ => op->Imm,
        };
        c.PushSized(v, size);
        return Handler.AfterWrite(c, op);
    }

    /// <summary>POP to a register or memory. For memory, RSP is incremented before the address is computed (SDM).</summary>
    public static int Pop(Cpu c, Op* op)
    {
        int size = op->OpSize;
        if (op->K0 == OperandKind.Register)
        {
            ulong v = c.PopSized(size);
            c.WriteReg(op->R1, size, v);
            return Handler.Continue;
        }
        ulong saved = c.Regs[Cpu.RSP];
        ulong value = c.PopSized(size);
        try
        {
            c.WriteSized(Handler.Ea(c, op), size, value);
        }
        catch
        {
            c.Regs[Cpu.RSP] = saved;
            throw;
        }
        return Handler.AfterWrite(c, op);
    }

    public static int Leave(Cpu c, Op* op)
    {
        int size = op->OpSize;
        ulong saved = c.Regs[Cpu.RSP];
        c.Regs[Cpu.RSP] = c.StackAddressBits switch
        {
            64 => c.Regs[Cpu.RBP],
            32 => (uint)c.Regs[Cpu.RBP],
            _ => (saved & ~0xFFFFUL) | (ushort)c.Regs[Cpu.RBP],
        };
        try
        {
            ulong v = c.PopSized(size);
            c.WriteReg(Cpu.RBP, size, v);
        }
        catch
        {
            c.Regs[Cpu.RSP] = saved;
            throw;
        }
        return Handler.Continue;
    }

    /// <summary>ENTER imm16, imm8: allocate a frame, copying <c>level</c> frame pointers for nested procedures.</summary>
    public static int Enter(Cpu c, Op* op)
    {
        int size = op->OpSize;
        ulong frameSize = op->Imm;
        int level = (int)(op->Instr.Immediate8_2nd & 31);
        ulong savedRsp = c.Regs[Cpu.RSP], savedRbp = c.Regs[Cpu.RBP];
        try
        {
            c.PushSized(c.ReadReg(Cpu.RBP, size), size);
            ulong frameTemp = c.ReadReg(Cpu.RSP, c.StackAddressBits / 8);
            ulong bp = savedRbp;
            for (int i = 1; i < level; i++)
            {
                bp -= (ulong)size;
                c.PushSized(c.ReadSized((c.SegBase[Cpu.SS] + bp) & c.LinearMask, size), size);
            }
            if (level > 0) c.PushSized(frameTemp, size);
            c.WriteReg(Cpu.RBP, size, frameTemp);
            c.AdjustStack(-(long)frameSize);
        }
        catch
        {
            c.Regs[Cpu.RSP] = savedRsp;
            c.Regs[Cpu.RBP] = savedRbp;
            throw;
        }
        return Handler.AfterWrite(c, op);
    }

    public static int Pushf(Cpu c, Op* op)
    {
        // VM and RF are never pushed as set.
        c.PushSized(c.GetRflags() & ~(RflagsBits.VM | RflagsBits.RF), op->OpSize);
        return Handler.AfterWrite(c, op);
    }

    /// <summary>POPF: IOPL changes only at CPL 0 and IF only when CPL &lt;= IOPL; ends the block because IF or TF may change.</summary>
    public static int Popf(Cpu c, Op* op)
    {
        int size = op->OpSize;
        ulong v = c.PopSized(size);
        ulong current = c.GetRflags();
        ulong mask = RflagsBits.Writable;
        if (c.ProtectedMode)
        {
            int iopl = (int)((current >> 12) & 3);
            if (c.Cpl > 0) mask &= ~RflagsBits.IOPL;
            if (c.Cpl > iopl) mask &= ~RflagsBits.IF;
        }
        if (size == 2) mask &= 0xFFFF;
        mask &= ~RflagsBits.RF;
        c.SetRflags((current & ~mask) | (v & mask));
        c.InterruptWindowMayOpen();
        return Handler.Next(c, op);
    }
}
