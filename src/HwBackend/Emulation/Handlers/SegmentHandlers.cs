using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// Segment-register moves, far transfers, software interrupts, IRET, SYSCALL/SYSRET, SWAPGS. Call
/// gates and task switches are not implemented: transfers through them raise #GP, as for a bad selector.
/// </summary>
internal static unsafe class SegmentHandlers
{
    /// <summary>MOV Sreg, r/m16: R1 is the segment register; MOV SS blocks interrupts for one instruction.</summary>
    public static int MovToSeg(Cpu c, Op* op)
    {
        int seg = op->R1;
        if (seg == Cpu.CS || seg > Cpu.GS) throw new CpuFault(ExceptionVector.UD, 0, false);
        ushort sel = op->K1 == OperandKind.Memory ? c.Read16(Handler.Ea(c, op)) : (ushort)c.Regs[op->R2];
        c.LoadSegment(seg, sel);
        if (seg == Cpu.SS) c.InterruptShadow = true;
        return Handler.Next(c, op);
    }

    public static int MovFromSeg(Cpu c, Op* op)
    {
        ushort sel = c.Segs[op->R2].Selector;
        if (op->K0 == OperandKind.Memory)
        {
            c.Write16(Handler.Ea(c, op), sel);
            return Handler.AfterWrite(c, op);
        }
        c.WriteReg(op->R1, op->OpSize, sel);
        return Handler.Continue;
    }

    public static int PushSeg(Cpu c, Op* op)
    {
        c.PushSized(c.Segs[op->R1].Selector, op->OpSize);
        return Handler.AfterWrite(c, op);
    }

    public static int PopSeg(Cpu c, Op* op)
    {
        ushort sel = (ushort)c.PeekStack(0, op->OpSize);
        c.LoadSegment(op->R1, sel);
        c.AdjustStack(op->OpSize);
        if (op->R1 == Cpu.SS) c.InterruptShadow = true;
        return Handler.Next(c, op);
    }

    /// <summary>LDS/LES/LFS/LGS/LSS (R2 = segment): offset of the operand size, then the selector.</summary>
    public static int LoadFarPointer(Cpu c, Op* op)
    {
        ulong la = Handler.Ea(c, op);
        int size = op->OpSize;
        ulong offset = c.ReadSized(la, size);
        ushort sel = c.Read16((la + (ulong)size) & c.LinearMask);
        c.LoadSegment(op->R2, sel);
        c.WriteReg(op->R1, size, offset);
        return Handler.Next(c, op);
    }

    private static void FarTarget(Cpu c, Op* op, out ushort selector, out ulong offset)
    {
        if (op->K0 == OperandKind.Memory)
        {
            ulong la = Handler.Ea(c, op);
            int size = op->OpSize;
            offset = c.ReadSized(la, size);
            selector = c.Read16((la + (ulong)size) & c.LinearMask);
        }
        else
        {
            selector = (ushort)(op->Imm >> 32);
            offset = (uint)op->Imm;
        }
    }

    /// <summary>Checks a direct far JMP/CALL target: a code segment we may enter at the current privilege.</summary>
    private static void CheckDirectCodeTarget(Cpu c, ushort selector)
    {
        if ((selector & ~3) == 0) throw new CpuFault(ExceptionVector.GP, 0, true);
        var d = Cpu.DecodeDescriptor(selector, c.ReadDescriptor(selector, out _));
        uint err = (uint)(selector & ~3);
        if (!d.CodeOrData || (d.Type & 8) == 0) throw new CpuFault(ExceptionVector.GP, err, true);
        bool conforming = (d.Type & 4) != 0;
        if (conforming ? d.Dpl > c.Cpl : ((selector & 3) > c.Cpl || d.Dpl != c.Cpl))
            throw new CpuFault(ExceptionVector.GP, err, true);
    }

    public static int FarJmp(Cpu c, Op* op)
    {
        FarTarget(c, op, out ushort selector, out ulong offset);
        if (c.ProtectedMode)
        {
            CheckDirectCodeTarget(c, selector);
            c.LoadCodeSegment(selector, c.Cpl);
        }
        else
        {
            c.LoadRealModeSegment(Cpu.CS, selector);
        }
        c.Rip = c.Bitness == 64 ? offset : op->OpSize == 2 ? offset & 0xFFFF : (uint)offset;
        return Handler.EndBlock;
    }

    public static int FarCall(Cpu c, Op* op)
    {
        FarTarget(c, op, out ushort selector, out ulong offset);
        int size = op->OpSize;
        ushort oldCs = c.Segs[Cpu.CS].Selector;
        if (c.ProtectedMode) CheckDirectCodeTarget(c, selector);
        ulong savedRsp = c.Regs[Cpu.RSP];
        c.PushSized(oldCs, size);
        try
        {
            c.PushSized(op->NextIp, size);
        }
        catch
        {
            c.Regs[Cpu.RSP] = savedRsp;
            throw;
        }
        if (c.ProtectedMode) c.LoadCodeSegment(selector, c.Cpl);
        else c.LoadRealModeSegment(Cpu.CS, selector);
        c.Rip = c.Bitness == 64 ? offset : size == 2 ? offset & 0xFFFF : (uint)offset;
        return Handler.EndBlock;
    }

    /// <summary>Far RET [imm16]: to the same or an outer privilege level (then SS:rSP are popped too).</summary>
    public static int FarRet(Cpu c, Op* op)
    {
        int size = op->OpSize;
        ulong offset = c.PeekStack(0, size);
        ushort selector = (ushort)c.PeekStack(size, size);
        if (!c.ProtectedMode)
        {
            c.AdjustStack(2 * size + (long)op->Imm);
            c.LoadRealModeSegment(Cpu.CS, selector);
            c.Rip = offset & (size == 2 ? 0xFFFFUL : 0xFFFF_FFFFUL);
            return Handler.EndBlock;
        }
        int rpl = selector & 3;
        if (rpl < c.Cpl) throw new CpuFault(ExceptionVector.GP, (uint)(selector & ~3), true);
        if (rpl == c.Cpl)
        {
            c.LoadCodeSegment(selector, rpl);
            c.AdjustStack(2 * size + (long)op->Imm);
        }
        else
        {
            ulong newSp = c.PeekStack(2 * size + (int)op->Imm, size);
            ushort newSs = (ushort)c.PeekStack(3 * size + (int)op->Imm, size);
            c.LoadCodeSegment(selector, rpl);
            c.LoadSegment(Cpu.SS, newSs);
            c.Regs[Cpu.RSP] = size == 8 ? newSp : size == 4 ? (uint)newSp : (c.Regs[Cpu.RSP] & ~0xFFFFUL) | (ushort)newSp;
            c.AdjustStack((long)op->Imm);
            NullInaccessibleDataSegments(c);
        }
        c.Rip = c.Bitness == 64 ? offset : (uint)offset & (size == 2 ? 0xFFFFU : 0xFFFF_FFFFU);
        return Handler.EndBlock;
    }

    /// <summary>After a return to an outer level, data segments the new CPL may not use are nulled (SDM, RET and IRET).</summary>
    private static void NullInaccessibleDataSegments(Cpu c)
    {
        foreach (int s in stackalloc int[] { Cpu.ES, Cpu.DS, Cpu.FS, Cpu.GS })
        {
            var seg = c.Segs[s];
            bool conformingCode = (seg.Type & 0xC) == 0xC;
            if (!seg.Unusable && seg.CodeOrData && !conformingCode && seg.Dpl < c.Cpl)
            {
                c.Segs[s] = SegmentRegister.Null;
                c.SegBase[s] = 0;
            }
        }
    }

    /// <summary>INT imm8 (Aux 0), INT3 (1), INTO (2), INT1 (3).</summary>
    public static int Int(Cpu c, Op* op)
    {
        byte vector;
        bool checkDpl = true;
        switch (op->Aux)
        {
            case 1: vector = ExceptionVector.BP; break;
            case 2:
                if (!c.OF) return Handler.Continue;
                vector = ExceptionVector.OF;
                break;
            case 3: vector = ExceptionVector.DB; checkDpl = false; break;
            default: vector = (byte)op->Imm; break;
        }
        c.SoftwareInterrupt(vector, op->NextIp, checkDpl);
        return Handler.EndBlock;
    }

    public static int Iret(Cpu c, Op* op)
    {
        int size = op->OpSize;
        ulong ip = c.PeekStack(0, size);
        ushort cs = (ushort)c.PeekStack(size, size);
        ulong flags = c.PeekStack(2 * size, size);
        ulong current = c.GetRflags();
        if (!c.ProtectedMode)
        {
            c.AdjustStack(3 * size);
            c.LoadRealModeSegment(Cpu.CS, cs);
            ulong realMask = size == 2 ? 0xFFFFUL & RflagsBits.Writable : RflagsBits.Writable;
            c.SetRflags((current & ~realMask) | (flags & realMask));
            c.Rip = ip & (size == 2 ? 0xFFFFUL : 0xFFFF_FFFFUL);
            c.EndNmiBlocking();
            c.InterruptWindowMayOpen();
            return Handler.EndBlock;
        }
        if ((current & RflagsBits.NT) != 0 && !c.LongMode) throw new CpuFault(ExceptionVector.GP, 0, true);
        int rpl = cs & 3;
        if (rpl < c.Cpl) throw new CpuFault(ExceptionVector.GP, (uint)(cs & ~3), true);
        bool popStack = c.Bitness == 64 || rpl > c.Cpl;
        ulong sp = popStack ? c.PeekStack(3 * size, size) : 0;
        ushort ss = popStack ? (ushort)c.PeekStack(4 * size, size) : (ushort)0;

        ulong mask = RflagsBits.Writable;
        if (c.Cpl > 0) mask &= ~RflagsBits.IOPL;
        if (c.Cpl > c.Iopl) mask &= ~RflagsBits.IF;
        if (size == 2) mask &= 0xFFFF;
        int oldCpl = c.Cpl;

        c.LoadCodeSegment(cs, rpl);
        c.SetRflags((current & ~mask) | (flags & mask));
        if (popStack)
        {
            if ((ss & ~3) == 0 && c.Bitness == 64 && rpl != 3)
            {
                c.Segs[Cpu.SS] = SegmentRegister.Null with { Selector = ss, Dpl = (byte)rpl };
                c.SegBase[Cpu.SS] = 0;
            }
            else
            {
                c.LoadSegment(Cpu.SS, ss);
            }
            c.Regs[Cpu.RSP] = size == 8 ? sp : size == 4 ? (uint)sp : (c.Regs[Cpu.RSP] & ~0xFFFFUL) | (ushort)sp;
        }
        else
        {
            c.AdjustStack(3 * size);
        }
        if (rpl > oldCpl) NullInaccessibleDataSegments(c);
        c.Rip = c.Bitness == 64 ? ip : (uint)ip & (size == 2 ? 0xFFFFU : 0xFFFF_FFFFU);
        c.EndNmiBlocking();
        c.InterruptWindowMayOpen();
        return Handler.EndBlock;
    }

    /// <summary>SYSCALL: CS/SS from STAR[47:32], RIP from LSTAR (CSTAR from compatibility mode), RFLAGS masked by SFMASK.</summary>
    public static int Syscall(Cpu c, Op* op)
    {
        if ((c.Efer & EferBits.SCE) == 0 || !c.ProtectedMode) throw new CpuFault(ExceptionVector.UD, 0, false);
        ushort sel = (ushort)((c.Star >> 32) & 0xFFFC);
        ulong flags = c.GetRflags() & ~RflagsBits.RF;
        if (c.LongMode)
        {
            bool from64 = c.Bitness == 64;
            c.Regs[Cpu.RCX] = op->NextIp;
            c.Regs[11] = flags;
            c.Segs[Cpu.CS] = SegmentRegister.Long64(sel, code: true);
            c.Segs[Cpu.SS] = SegmentRegister.Long64((ushort)(sel + 8), code: false);
            c.SetCpl(0);
            c.OnModeChanged();
            c.SetRflags(flags & ~c.Sfmask);
            c.Rip = from64 ? c.Lstar : c.Cstar;
        }
        else
        {
            c.Regs[Cpu.RCX] = (uint)op->NextIp;
            c.Segs[Cpu.CS] = SegmentRegister.Flat32(sel, code: true);
            c.Segs[Cpu.SS] = SegmentRegister.Flat32((ushort)(sel + 8), code: false);
            c.SetCpl(0);
            c.OnModeChanged();
            c.SetRflags(flags & ~(RflagsBits.IF | RflagsBits.VM));
            c.Rip = (uint)c.Star;
        }
        return Handler.EndBlock;
    }

    /// <summary>SYSRET: back to CPL 3 with CS/SS from STAR[63:48]; REX.W returns to 64-bit code.</summary>
    public static int Sysret(Cpu c, Op* op)
    {
        if ((c.Efer & EferBits.SCE) == 0 || !c.ProtectedMode) throw new CpuFault(ExceptionVector.UD, 0, false);
        if (c.Cpl != 0) throw new CpuFault(ExceptionVector.GP, 0, true);
        ushort sel = (ushort)(c.Star >> 48);
        bool to64 = op->OpSize == 8;
        if (to64 && !Cpu.IsCanonical(c.Regs[Cpu.RCX])) throw new CpuFault(ExceptionVector.GP, 0, true);
        if (to64)
            c.Segs[Cpu.CS] = SegmentRegister.Long64((ushort)((sel + 16) | 3), code: true) with { Dpl = 3 };
        else
            c.Segs[Cpu.CS] = SegmentRegister.Flat32((ushort)(sel | 3), code: true) with { Dpl = 3 };
        c.Segs[Cpu.SS] = SegmentRegister.Flat32((ushort)((sel + 8) | 3), code: false) with { Dpl = 3 };
        if (c.LongMode) c.SetRflags((c.Regs[11] & RflagsBits.Writable & ~RflagsBits.RF) | RflagsBits.Reserved1);
        else c.FlagsOther |= RflagsBits.IF;
        c.SetCpl(3);
        c.OnModeChanged();
        c.Rip = to64 ? c.Regs[Cpu.RCX] : (uint)c.Regs[Cpu.RCX];
        c.InterruptWindowMayOpen();
        return Handler.EndBlock;
    }

    public static int Swapgs(Cpu c, Op* op)
    {
        if (c.Bitness != 64) throw new CpuFault(ExceptionVector.UD, 0, false);
        c.RequireCpl0();
        ulong gs = c.Segs[Cpu.GS].Base;
        c.Segs[Cpu.GS] = c.Segs[Cpu.GS] with { Base = c.KernelGsBase };
        c.SegBase[Cpu.GS] = c.KernelGsBase;
        c.KernelGsBase = gs;
        return Handler.Continue;
    }
}
