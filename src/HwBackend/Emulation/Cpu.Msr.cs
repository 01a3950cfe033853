using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>Model-specific registers the guest can read and write; any other index is a #GP(0), as on hardware.</summary>
internal sealed unsafe partial class Cpu
{
    public const uint MsrTsc = 0x10, MsrApicBase = 0x1B, MsrMiscEnable = 0x1A0, MsrPat = 0x277,
        MsrSysenterCs = 0x174, MsrSysenterEsp = 0x175, MsrSysenterEip = 0x176,
        MsrEfer = 0xC000_0080, MsrStar = 0xC000_0081, MsrLstar = 0xC000_0082, MsrCstar = 0xC000_0083,
        MsrSfmask = 0xC000_0084, MsrFsBase = 0xC000_0100, MsrGsBase = 0xC000_0101, MsrKernelGsBase = 0xC000_0102,
        MsrTscAux = 0xC000_0103, MsrMicrocodeRevision = 0x8B, MsrTscAdjust = 0x3B,
        MsrSpecCtrl = 0x48, MsrPredCmd = 0x49, MsrArchCapabilities = 0x10A;

    /// <summary>
    /// IA32_ARCH_CAPABILITIES: this CPU executes nothing speculatively, so it is immune to every
    /// transient-execution attack that has a "not affected" bit, and says so. Without them Linux
    /// takes an unknown Intel part for vulnerable and pays for it on every kernel entry and return:
    /// page-table isolation (two CR3 writes, and so two TLB flushes, per system call and interrupt
    /// from user mode), retpolines for indirect calls, return thunks, buffer clearing (VERW) and
    /// branch-history clearing. IBRS_ALL lets Spectre v2 be met by "enhanced IBRS", which costs
    /// nothing: a bit in IA32_SPEC_CTRL. (Linux still assumes Branch History Injection and, without
    /// BHI_DIS_S, clears the history on each system call; see CPUID 7.2.)
    /// RDCL_NO 0, IBRS_ALL 1, SSB_NO 4, MDS_NO 5, PSCHANGE_MC_NO 6, TAA_NO 8, SBDR_SSDP_NO 13,
    /// FBSDP_NO 14, PSDP_NO 15, BHI_NO 20, PBRSB_NO 24, GDS_NO 26, RFDS_NO 27, ITS_NO 62.
    /// </summary>
    public const ulong ArchCapabilities = (1UL << 0) | (1UL << 1) | (1UL << 4) | (1UL << 5) | (1UL << 6) | (1UL << 8)
        | (1UL << 13) | (1UL << 14) | (1UL << 15) | (1UL << 20) | (1UL << 24) | (1UL << 26) | (1UL << 27) | (1UL << 62);

    /// <summary>IA32_SPEC_CTRL's bits here, IBRS (0) and BHI_DIS_S (10): kept and read back, with nothing to restrict.</summary>
    public const ulong SpecCtrlBits = (1UL << 0) | (1UL << 10);

    /// <summary>IA32_PRED_CMD's one command, IBPB: a barrier for predictions this CPU does not make.</summary>
    private const ulong PredCmdIbpb = 1;

    /// <summary>
    /// Advertised TSC rate (CPUID 0x15/0x16): 1 GHz, one tick per nanosecond of the machine's
    /// platform clock, so every vCPU sees the same TSC and it stops while the machine is paused.
    /// </summary>
    public const long TscHz = 1_000_000_000;

    public ulong ReadTsc() => (ulong)(Clock.NowNanoseconds + TscOffset);

    /// <summary>WRMSR to the TSC: IA32_TSC_ADJUST moves by the same amount (SDM vol. 3, 18.17.3).</summary>
    public void WriteTsc(ulong value)
    {
        long offset = (long)value - Clock.NowNanoseconds;
        TscAdjust += offset - TscOffset;
        TscOffset = offset;
    }

    /// <summary>A restored TSC value: the state being restored carries its own IA32_TSC_ADJUST.</summary>
    public void RestoreTsc(ulong value) => TscOffset = (long)value - Clock.NowNanoseconds;

    /// <summary>
    /// The #GP(0) for a RDMSR or WRMSR that failed. A failure is either a value the MSR refuses or
    /// an MSR this CPU does not have; only the latter is reported as unimplemented.
    /// </summary>
    /// <param name="rip">The RDMSR's or WRMSR's own address (inside a block, <see cref="Rip"/> is the block's).</param>
    public CpuFault MsrFault(uint index, UnimplementedKind kind, ulong rip)
    {
        bool known = (_apic?.OwnsMsr(index) ?? false) || index == MsrPredCmd || TryReadMsr(index, out _);
        if (!known)
            Unimplemented?.Record(kind, index, rip);
        return new CpuFault(ExceptionVector.GP, 0, true);
    }

    public bool TryReadMsr(uint index, out ulong value)
    {
        if (Synthetic is { } synthetic && synthetic.OwnsMsr(index))
            return synthetic.TryReadMsr(index, out value);
        if (_apic is { } apic)
        {
            if (index == MsrApicBase)
            {
                value = apic.ApicBaseMsr;
                return true;
            }
            if (apic.OwnsMsr(index)) return TryReadApicMsr(index, out value);
        }
        switch (index)
        {
            case MsrTsc: value = ReadTsc(); return true;
            case MsrApicBase: value = ApicBase; return true;
            case MsrMiscEnable: value = MiscEnable; return true;
            case MsrPat: value = Pat; return true;
            case MsrSysenterCs: value = SysenterCs; return true;
            case MsrSysenterEsp: value = SysenterEsp; return true;
            case MsrSysenterEip: value = SysenterEip; return true;
            case MsrEfer: value = Efer; return true;
            case MsrStar: value = Star; return true;
            case MsrLstar: value = Lstar; return true;
            case MsrCstar: value = Cstar; return true;
            case MsrSfmask: value = Sfmask; return true;
            case MsrFsBase: value = Segs[FS].Base; return true;
            case MsrGsBase: value = Segs[GS].Base; return true;
            case MsrKernelGsBase: value = KernelGsBase; return true;
            case MsrTscAux: value = TscAux; return true;
            case MsrMicrocodeRevision: value = 0; return true; // IA32_BIOS_SIGN_ID: no microcode update loaded
            case MsrTscAdjust: value = (ulong)TscAdjust; return true;
            case MsrSpecCtrl: value = SpecCtrl; return true;
            case MsrArchCapabilities: value = ArchCapabilities; return true;
            default: value = 0; return false; // IA32_PRED_CMD among them: it is write-only
        }
    }

    public bool TryWriteMsr(uint index, ulong value)
    {
        if (Synthetic is { } synthetic && synthetic.OwnsMsr(index))
            return synthetic.TryWriteMsr(index, value);
        if (_apic is { } apic)
        {
            if (index == MsrApicBase)
            {
                if (!apic.TryWriteApicBaseMsr(value)) return false;
                ApicBase = apic.ApicBaseMsr;
                NotifyInterruptController();
                return true;
            }
            if (apic.OwnsMsr(index)) return TryWriteApicMsr(index, value);
        }
        switch (index)
        {
            case MsrTsc: WriteTsc(value); return true;
            case MsrApicBase: ApicBase = value & 0xF_FFFF_FD00; return true;
            case MsrMiscEnable: MiscEnable = value; return true;
            case MsrPat: Pat = value; return true;
            case MsrSysenterCs: SysenterCs = value & 0xFFFF; return true;
            case MsrSysenterEsp: SysenterEsp = value; return IsCanonical(value);
            case MsrSysenterEip: SysenterEip = value; return IsCanonical(value);
            case MsrEfer:
                {
                    if ((value & ~EferBits.Supported) != 0) return false;
                    // LME may not change while paging is on; LMA is read-only.
                    if (PagingEnabled && ((value ^ Efer) & EferBits.LME) != 0) return false;
                    Efer = (value & ~EferBits.LMA) | (Efer & EferBits.LMA);
                    FlushTlb();
                    return true;
                }
            case MsrStar: Star = value; return true;
            case MsrLstar: if (!IsCanonical(value)) return false; Lstar = value; return true;
            case MsrCstar: if (!IsCanonical(value)) return false; Cstar = value; return true;
            case MsrSfmask: Sfmask = value & 0xFFFF_FFFF; return true;
            case MsrFsBase:
                if (!IsCanonical(value)) return false;
                Segs[FS] = Segs[FS] with { Base = value };
                SegBase[FS] = Bitness == 64 ? value : (uint)value;
                return true;
            case MsrGsBase:
                if (!IsCanonical(value)) return false;
                Segs[GS] = Segs[GS] with { Base = value };
                SegBase[GS] = Bitness == 64 ? value : (uint)value;
                return true;
            case MsrKernelGsBase: if (!IsCanonical(value)) return false; KernelGsBase = value; return true;
            case MsrTscAux: TscAux = value & 0xFFFF_FFFF; return true;
            case MsrMicrocodeRevision: return true; // software clears it before CPUID to read the revision; nothing to latch
            case MsrTscAdjust:
                // Writing the adjustment moves the TSC by the difference.
                TscOffset += (long)value - TscAdjust;
                TscAdjust = (long)value;
                return true;
            case MsrSpecCtrl:
                if ((value & ~SpecCtrlBits) != 0) return false;
                SpecCtrl = value;
                return true;
            case MsrPredCmd: return (value & ~PredCmdIbpb) == 0;
            default: return false; // IA32_ARCH_CAPABILITIES among them: it is read-only
        }
    }
}
