namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// VERR, VERW, LAR and LSL: questions about a selector that answer in ZF instead of faulting.
/// Linux executes VERW on every return to user mode (its MDS buffer clearing) and LSL in the
/// vDSO's getcpu, so these run on hot paths of any stock kernel.
/// </summary>
internal static unsafe class SegmentCheckHandlers
{
    /// <summary>VERR (Aux 0) / VERW (Aux 1) r/m16: ZF=1 when the segment is readable (writable) at CPL and RPL.</summary>
    public static int Verify(Cpu c, Op* op)
    {
        if (!c.ProtectedMode) throw new CpuFault(ExceptionVector.UD, 0, false);
        ushort selector = op->K0 == OperandKind.Memory ? c.Read16(Handler.Ea(c, op)) : (ushort)c.Regs[op->R1];
        bool ok = false;
        if (TryReadDescriptor(c, selector, out ulong d) && (d & DescriptorCodeOrData) != 0)
        {
            var seg = Cpu.DecodeDescriptor(selector, d);
            bool code = (seg.Type & 8) != 0;
            bool conforming = code && (seg.Type & 4) != 0;
            bool allowed = conforming || (seg.Dpl >= c.Cpl && seg.Dpl >= (selector & 3));
            ok = allowed && (op->Aux == 0 ? !code || (seg.Type & 2) != 0 : !code && (seg.Type & 2) != 0);
        }

        c.SetZeroFlagOnly(ok);
        return Handler.Continue;
    }

    /// <summary>
    /// LAR (Aux 0) / LSL (Aux 1) r, r/m16: the access rights (descriptor bits 8-23 of its high word)
    /// or the byte-granular limit, with ZF=1; ZF=0 and the destination unchanged when the selector
    /// names nothing visible at CPL and RPL or a system type the instruction does not report.
    /// </summary>
    public static int LoadSegmentInfo(Cpu c, Op* op)
    {
        if (!c.ProtectedMode) throw new CpuFault(ExceptionVector.UD, 0, false);
        ushort selector = op->K1 == OperandKind.Memory ? c.Read16(Handler.Ea(c, op)) : (ushort)c.Regs[op->R2];
        bool lar = op->Aux == 0;
        if (!TryReadDescriptor(c, selector, out ulong d))
        {
            c.SetZeroFlagOnly(false);
            return Handler.Continue;
        }

        var seg = Cpu.DecodeDescriptor(selector, d);
        bool visible;
        if ((d & DescriptorCodeOrData) != 0)
        {
            bool conforming = (seg.Type & 0xC) == 0xC;
            visible = conforming || (seg.Dpl >= c.Cpl && seg.Dpl >= (selector & 3));
        }
        else
        {
            bool typeOk = c.LongMode
                ? seg.Type is 0x2 or 0x9 or 0xB || (lar && seg.Type == 0xC)
                : seg.Type is 0x1 or 0x2 or 0x3 or 0x9 or 0xB || (lar && seg.Type is 0x4 or 0x5 or 0xC);
            visible = typeOk && seg.Dpl >= c.Cpl && seg.Dpl >= (selector & 3);
        }

        if (!visible)
        {
            c.SetZeroFlagOnly(false);
            return Handler.Continue;
        }

        ulong value = lar ? (d >> 32) & 0x00F0_FF00 : seg.Limit;
        c.WriteReg(op->R1, op->OpSize, value);
        c.SetZeroFlagOnly(true);
        return Handler.Continue;
    }

    private const ulong DescriptorCodeOrData = 1UL << 44;

    /// <summary>The descriptor, or false for a null selector or one outside its table (no fault: these instructions report, not trap).</summary>
    private static bool TryReadDescriptor(Cpu c, ushort selector, out ulong descriptor)
    {
        descriptor = 0;
        if ((selector & ~3) == 0)
            return false;
        bool ldt = (selector & 4) != 0;
        ulong limit = ldt ? c.Ldtr.Limit : c.Gdtr.Limit;
        if ((ldt && c.Ldtr.Unusable) || (ulong)(selector & ~7) + 7 > limit)
            return false;
        descriptor = c.ReadDescriptor(selector, out _);
        return true;
    }
}
