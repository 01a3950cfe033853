namespace Actors.HwBackend.Emulation;

/// <summary>Control-register writes with the SDM's consistency checks and the mode switches they cause (long-mode activation on CR0.PG).</summary>
internal sealed unsafe partial class Cpu
{
    public void WriteCr(int n, ulong v)
    {
        switch (n)
        {
            case 0:
                {
                    if ((v >> 32) != 0) throw new CpuFault(ExceptionVector.GP, 0, true);
                    v |= Cr0Bits.ET;
                    if ((v & Cr0Bits.PG) != 0 && (v & Cr0Bits.PE) == 0) throw new CpuFault(ExceptionVector.GP, 0, true);
                    if ((v & Cr0Bits.NW) != 0 && (v & Cr0Bits.CD) == 0) throw new CpuFault(ExceptionVector.GP, 0, true);
                    bool pagingOn = (v & Cr0Bits.PG) != 0 && (Cr0 & Cr0Bits.PG) == 0;
                    bool pagingOff = (v & Cr0Bits.PG) == 0 && (Cr0 & Cr0Bits.PG) != 0;
                    if (pagingOn && (Efer & EferBits.LME) != 0)
                    {
                        if ((Cr4 & Cr4Bits.PAE) == 0) throw new CpuFault(ExceptionVector.GP, 0, true);
                        Efer |= EferBits.LMA;
                    }
                    if (pagingOff && LongMode)
                    {
                        if (Bitness == 64) throw new CpuFault(ExceptionVector.GP, 0, true);
                        Efer &= ~EferBits.LMA;
                    }
                    if (((v ^ Cr0) & (Cr0Bits.PG | Cr0Bits.CD | Cr0Bits.NW)) != 0) CheckPaePdptes(v, Cr3, Cr4);
                    if (((v ^ Cr0) & (Cr0Bits.PG | Cr0Bits.WP | Cr0Bits.PE)) != 0) FlushTlb();
                    Cr0 = v;
                    OnModeChanged();
                    return;
                }
            case 2:
                Cr2 = v;
                return;
            case 3:
                if (!LongMode) CheckPaePdptes(Cr0, (uint)v, Cr4);
                Cr3 = LongMode ? v & 0x000F_FFFF_FFFF_FFFF : (uint)v;
                FlushTlb();
                return;
            case 4:
                if ((v & ~Cr4Bits.Supported) != 0) throw new CpuFault(ExceptionVector.GP, 0, true);
                if (LongMode && (v & Cr4Bits.PAE) == 0) throw new CpuFault(ExceptionVector.GP, 0, true);
                if (((v ^ Cr4) & (Cr4Bits.PAE | Cr4Bits.PSE | Cr4Bits.PGE)) != 0)
                {
                    if (!LongMode) CheckPaePdptes(Cr0, Cr3, v);
                    FlushTlb();
                }
                bool debugExtensions = ((v ^ Cr4) & Cr4Bits.DE) != 0;
                Cr4 = v;
                if (debugExtensions) UpdateBreakpoints(); // R/W = 10 means an I/O breakpoint only with CR4.DE
                return;
            case 8:
                if ((v & ~0xFUL) != 0) throw new CpuFault(ExceptionVector.GP, 0, true);
                WriteTaskPriorityClass((int)v);
                return;
            default:
                throw new CpuFault(ExceptionVector.UD, 0, false);
        }
    }

    public ulong ReadCr(int n) => n switch
    {
        0 => Cr0,
        2 => Cr2,
        3 => Cr3,
        4 => Cr4,
        8 => (ulong)ReadTaskPriorityClass(),
        _ => throw new CpuFault(ExceptionVector.UD, 0, false),
    };

    /// <summary>#GP(0) unless at CPL 0 (always true in real mode).</summary>
    public void RequireCpl0()
    {
        if (ProtectedMode && Cpl != 0) throw new CpuFault(ExceptionVector.GP, 0, true);
    }

    public int Iopl => (int)((FlagsOther >> 12) & 3);

    /// <summary>IN, OUT, CLI, STI are allowed when CPL &lt;= IOPL (the TSS I/O bitmap is not consulted).</summary>
    public void RequireIoPrivilege()
    {
        if (ProtectedMode && Cpl > Iopl) throw new CpuFault(ExceptionVector.GP, 0, true);
    }
}
