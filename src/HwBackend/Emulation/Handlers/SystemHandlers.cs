using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// Privileged and system instructions: port I/O, HLT, CLI/STI, control and debug registers, descriptor
/// tables, CPUID, TSC, MSRs, VMCALL. Those that change what a block assumed end the block (<see cref="Handler.Next"/>).
/// </summary>
internal static unsafe class SystemHandlers
{
    public static int In(Cpu c, Op* op)
    {
        c.RequireIoPrivilege();
        ushort port = op->K1 == OperandKind.Immediate ? (ushort)op->Imm : (ushort)c.Regs[Cpu.RDX];
        if (!c.TryTakePortIn(port, op->OpSize, out ulong v))
        {
            c.Rip = op->Ip;
            return Handler.Exit;
        }
        c.WriteReg(Cpu.RAX, op->OpSize, v);
        return Handler.Continue;
    }

    /// <summary>
    /// OUT: OpSize is the data size (of AL/AX/EAX). A byte to <see cref="HypercallConvention.Port"/> is the hypercall
    /// page's call when the guest may call (<see cref="HypercallConvention"/>), carried out here as VMCALL is.
    /// </summary>
    public static int Out(Cpu c, Op* op)
    {
        c.RequireIoPrivilege();
        ushort port = op->K0 == OperandKind.Immediate ? (ushort)op->Imm : (ushort)c.Regs[Cpu.RDX];
        if (port == HypercallConvention.Port && op->OpSize == 1 && c.Synthetic is { HypercallsEnabled: true } synthetic && c.ProtectedMode && c.Cpl == 0)
            return CarryOut(c, synthetic);
        c.PortOut(port, op->OpSize, c.ReadReg(Cpu.RAX, op->OpSize));
        c.Rip = op->NextIp;
        return Handler.Exit;
    }

    public static int Hlt(Cpu c, Op* op)
    {
        c.RequireCpl0();
        c.Halted = true;
        c.Rip = op->NextIp;
        return Handler.EndBlock;
    }

    public static int Cli(Cpu c, Op* op)
    {
        c.RequireIoPrivilege();
        c.FlagsOther &= ~RflagsBits.IF;
        return Handler.Continue;
    }

    /// <summary>STI opens the interrupt window one instruction late (the STI shadow).</summary>
    public static int Sti(Cpu c, Op* op)
    {
        c.RequireIoPrivilege();
        if (!c.IF) c.InterruptShadow = true;
        c.FlagsOther |= RflagsBits.IF;
        c.InterruptWindowMayOpen();
        return Handler.Next(c, op);
    }

    public static int MovToCr(Cpu c, Op* op)
    {
        c.RequireCpl0();
        ulong v = c.Bitness == 64 ? c.Regs[op->R2] : (uint)c.Regs[op->R2];
        c.WriteCr(op->R1, v);
        return Handler.Next(c, op);
    }

    public static int MovFromCr(Cpu c, Op* op)
    {
        c.RequireCpl0();
        ulong v = c.ReadCr(op->R2);
        c.Regs[op->R1] = c.Bitness == 64 ? v : (uint)v;
        return Handler.Continue;
    }

    /// <summary>MOV to DRn: may arm or disarm breakpoints, so the block ends (the next instruction is already checked).</summary>
    public static int MovToDr(Cpu c, Op* op)
    {
        c.RequireCpl0();
        c.WriteDebugRegister(op->R1, c.Bitness == 64 ? c.Regs[op->R2] : (uint)c.Regs[op->R2]);
        return Handler.Next(c, op);
    }

    public static int MovFromDr(Cpu c, Op* op)
    {
        c.RequireCpl0();
        ulong v = c.ReadDebugRegister(op->R2);
        c.Regs[op->R1] = c.Bitness == 64 ? v : (uint)v;
        return Handler.Continue;
    }

    /// <summary>LGDT (Aux 0) / LIDT (Aux 1): a 16-bit limit then a base of 8 bytes in 64-bit mode, else 4 (24 bits with a 16-bit operand).</summary>
    public static int LoadTable(Cpu c, Op* op)
    {
        c.RequireCpl0();
        ulong la = Handler.Ea(c, op);
        ushort limit = c.Read16(la);
        ulong b = c.Bitness == 64 ? c.Read64((la + 2) & c.LinearMask) : c.Read32((la + 2) & c.LinearMask);
        if (c.Bitness != 64 && op->OpSize == 2) b &= 0xFF_FFFF;
        // 64-bit mode: a non-canonical base would fault on every later descriptor access; the
        // processor refuses it at load time with #GP(0) and keeps the register as it was.
        if (c.Bitness == 64 && !Cpu.IsCanonical(b)) throw new CpuFault(ExceptionVector.GP, 0, true);
        var table = new DescriptorTableRegister(b, limit);
        if (op->Aux == 0) c.Gdtr = table;
        else c.Idtr = table;
        return Handler.Next(c, op);
    }

    /// <summary>SGDT (Aux 0) / SIDT (Aux 1).</summary>
    public static int StoreTable(Cpu c, Op* op)
    {
        ulong la = Handler.Ea(c, op);
        var table = op->Aux == 0 ? c.Gdtr : c.Idtr;
        c.ProbeWrite(la, c.Bitness == 64 ? 10 : 6);
        c.Write16(la, table.Limit);
        if (c.Bitness == 64) c.Write64((la + 2) & c.LinearMask, table.Base);
        else c.Write32((la + 2) & c.LinearMask, (uint)table.Base);
        return Handler.AfterWrite(c, op);
    }

    private static ushort ReadSelectorOperand(Cpu c, Op* op) =>
        op->K0 == OperandKind.Memory ? c.Read16(Handler.Ea(c, op)) : (ushort)c.Regs[op->R1];

    /// <summary>LLDT (Aux 0) / LTR (Aux 1): system descriptors are 16 bytes in long mode; LTR marks the TSS busy.</summary>
    public static int LoadSystemSegment(Cpu c, Op* op)
    {
        if (!c.ProtectedMode) throw new CpuFault(ExceptionVector.UD, 0, false);
        c.RequireCpl0();
        ushort selector = ReadSelectorOperand(c, op);
        bool ltr = op->Aux == 1;
        if ((selector & ~3) == 0)
        {
            if (ltr) throw new CpuFault(ExceptionVector.GP, 0, true);
            c.Ldtr = SegmentRegister.Null;
            return Handler.Next(c, op);
        }
        if ((selector & 4) != 0) throw new CpuFault(ExceptionVector.GP, (uint)(selector & ~3), true);
        ulong d = c.ReadDescriptor(selector, out ulong address);
        var seg = Cpu.DecodeDescriptor(selector, d);
        bool typeOk = ltr ? seg.Type is 1 or 9 : seg.Type == 2;
        if (seg.CodeOrData || !typeOk) throw new CpuFault(ExceptionVector.GP, (uint)(selector & ~3), true);
        if (!seg.Present) throw new CpuFault(ExceptionVector.NP, (uint)(selector & ~3), true);
        if (c.LongMode)
        {
            ulong high = c.ReadSystem64(address + 8);
            // The 16-byte form holds the base's bits 63:32 in its upper half; the full base must be
            // canonical, else #GP(selector) (SDM LLDT/LTR, 64-bit mode exceptions).
            ulong fullBase = seg.Base | (high << 32);
            if (!Cpu.IsCanonical(fullBase))
                throw new CpuFault(ExceptionVector.GP, (uint)(selector & ~3), true);
            seg = seg with { Base = fullBase };
        }
        if (ltr)
        {
            c.WriteSystem8(address + 5, (byte)(c.ReadSystem8(address + 5) | 2));
            c.Tr = seg with { Type = (byte)(seg.Type | 2) };
        }
        else
        {
            c.Ldtr = seg;
        }
        return Handler.Next(c, op);
    }

    /// <summary>SLDT (Aux 0) / STR (Aux 1) / SMSW (Aux 2): a register destination gets the value zero-extended.</summary>
    public static int StoreSystemValue(Cpu c, Op* op)
    {
        ushort v = op->Aux switch
        {
            0 => c.Ldtr.Selector,
            1 => c.Tr.Selector,
            _ => (ushort)c.Cr0,
        };
        if (op->K0 == OperandKind.Memory)
        {
            c.Write16(Handler.Ea(c, op), v);
            return Handler.AfterWrite(c, op);
        }
        c.WriteReg(op->R1, op->OpSize, op->Aux == 2 ? c.Cr0 : v);
        return Handler.Continue;
    }

    /// <summary>LMSW changes PE, MP, EM, TS only and cannot clear PE.</summary>
    public static int Lmsw(Cpu c, Op* op)
    {
        c.RequireCpl0();
        ulong v = ReadSelectorOperand(c, op);
        ulong cr0 = (c.Cr0 & ~0xEUL) | (v & 0xF) | (c.Cr0 & 1);
        c.WriteCr(0, cr0);
        return Handler.Next(c, op);
    }

    public static int Clts(Cpu c, Op* op)
    {
        c.RequireCpl0();
        c.Cr0 &= ~Cr0Bits.TS;
        return Handler.Continue;
    }

    public static int Invlpg(Cpu c, Op* op)
    {
        c.RequireCpl0();
        c.FlushTlbPage(Handler.Ea(c, op));
        return Handler.Next(c, op);
    }

    public static int Privileged(Cpu c, Op* op)
    {
        c.RequireCpl0();
        return Handler.Continue;
    }

    public static int CpuidInstruction(Cpu c, Op* op)
    {
        uint leaf = (uint)c.Regs[Cpu.RAX];
        uint a, b, cx, d;
        if (c.Synthetic is not { } synthetic || !synthetic.TryQueryCpuid(leaf, out a, out b, out cx, out d))
            Cpuid.Query(leaf, (uint)c.Regs[Cpu.RCX], c.Index, c.Apic != null, out a, out b, out cx, out d);
        c.Regs[Cpu.RAX] = a;
        c.Regs[Cpu.RBX] = b;
        c.Regs[Cpu.RCX] = cx;
        c.Regs[Cpu.RDX] = d;
        return Handler.Continue;
    }

    /// <summary>RDTSC (Aux 0) / RDTSCP (Aux 1, also ECX = TSC_AUX).</summary>
    public static int Rdtsc(Cpu c, Op* op)
    {
        if ((c.Cr4 & Cr4Bits.TSD) != 0 && c.Cpl != 0 && c.ProtectedMode) throw new CpuFault(ExceptionVector.GP, 0, true);
        ulong t = c.ReadTsc();
        c.Regs[Cpu.RAX] = (uint)t;
        c.Regs[Cpu.RDX] = t >> 32;
        if (op->Aux == 1) c.Regs[Cpu.RCX] = (uint)c.TscAux;
        return Handler.Continue;
    }

    public static int Rdmsr(Cpu c, Op* op)
    {
        c.RequireCpl0();
        if (!c.TryReadMsr((uint)c.Regs[Cpu.RCX], out ulong v)) throw c.MsrFault((uint)c.Regs[Cpu.RCX], UnimplementedKind.MsrRead, op->NextIp - op->Length);
        c.Regs[Cpu.RAX] = (uint)v;
        c.Regs[Cpu.RDX] = v >> 32;
        return Handler.Continue;
    }

    public static int Wrmsr(Cpu c, Op* op)
    {
        c.RequireCpl0();
        ulong v = ((ulong)(uint)c.Regs[Cpu.RDX] << 32) | (uint)c.Regs[Cpu.RAX];
        if (!c.TryWriteMsr((uint)c.Regs[Cpu.RCX], v)) throw c.MsrFault((uint)c.Regs[Cpu.RCX], UnimplementedKind.MsrWrite, op->NextIp - op->Length);
        return Handler.Next(c, op);
    }

    /// <summary>
    /// VMCALL/VMMCALL at CPL 0 in protected mode (#UD elsewhere, TLFS): an enlightened partition
    /// carries the call out here (<see cref="CarryOut"/>); any other VM gets a hypercall exit, which the
    /// worker answers. The hypercall page calls with OUT instead (<see cref="Out"/>), as on KVM.
    /// </summary>
    public static int Hypercall(Cpu c, Op* op)
    {
        if (!c.ProtectedMode || c.Cpl != 0) throw new CpuFault(ExceptionVector.UD, 0, false);
        if (c.Synthetic is not { } synthetic)
        {
            c.PendingExit = new VpExit(VpExitReason.Hypercall);
            c.Rip = op->NextIp;
            return Handler.Exit;
        }
        // An enlightened partition has hypercalls only once the guest has enabled its hypercall page.
        if (!synthetic.HypercallsEnabled) throw new CpuFault(ExceptionVector.UD, 0, false);
        return CarryOut(c, synthetic);
    }

    /// <summary>
    /// A hypercall the guest may make, in the registers of the calling convention in force (64-bit code: RCX
    /// value, RDX input, R8 output, RAX result; else EDX:EAX, EBX:ECX, EDI:ESI, EDX:EAX). The block goes on: the
    /// hypercall page's RET that follows ends it, and any interrupt the call posted (a SynIC message) is taken there.
    /// </summary>
    private static int CarryOut(Cpu c, ISyntheticRegisters synthetic)
    {
        var gprs = new Span<ulong>(c.Regs, 16);
        bool is64BitCode = c.Bitness == 64;
        (ulong input, ulong inputParameter, ulong outputParameter) = HypercallConvention.Arguments(gprs, is64BitCode);
        HypercallConvention.SetResult(gprs, is64BitCode, synthetic.Hypercall(input, inputParameter, outputParameter));
        return Handler.Continue;
    }

    public static int Undefined(Cpu c, Op* op) => throw new CpuFault(ExceptionVector.UD, 0, false);

    /// <summary>An instruction this CPU does not implement: #UD, as for a processor without the feature, reported to the VM's unimplemented log.</summary>
    public static int Unimplemented(Cpu c, Op* op)
    {
        c.Unimplemented?.Record(UnimplementedKind.Instruction, op->Imm, op->NextIp - op->Length);
        throw new CpuFault(ExceptionVector.UD, 0, false);
    }
}
