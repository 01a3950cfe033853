namespace Actors.HwBackend.Emulation;

/// <summary>
/// The page walker for 32-bit, PAE and 4-level paging (Intel SDM vol. 3, chapter 4): permissions are
/// the AND of R/W and U/S over all levels and the OR of XD; accessed bits are set on the way down,
/// the dirty bit on the leaf for writes; failures raise #PF with CR2 and the architectural error code.
/// </summary>
internal sealed unsafe partial class Cpu
{
    private const ulong PtePresent = 1, PteWrite = 2, PteUser = 4, PteAccessed = 0x20, PteDirty = 0x40, PteLarge = 0x80;
    private const ulong PteNx = 1UL << 63;

    /// <summary>Physical-address width reported in CPUID 0x80000008 and enforced in paging entries.</summary>
    public const int PhysicalAddressBits = 40;
    private const ulong PhysMask = ((1UL << PhysicalAddressBits) - 1) & ~0xFFFUL;

    private const uint PfPresent = 1, PfWrite = 2, PfUser = 4, PfReserved = 8, PfFetch = 0x10;

    /// <summary>Bits 51:MAXPHYADDR of a 64-bit paging entry: reserved at every level (SDM vol. 3 §4.5, tables 4-14..4-20).</summary>
    private const ulong ReservedAbovePhys = ((1UL << 52) - 1) & ~((1UL << PhysicalAddressBits) - 1);

    /// <summary>Bits 29:13 of a PDPTE mapping a 1 GiB page (bit 12 is PAT).</summary>
    private const ulong Reserved1GPage = 0x3FFF_E000;

    /// <summary>Bits 20:13 of a PDE mapping a 2 MiB page (bit 12 is PAT).</summary>
    private const ulong Reserved2MPage = 0x1F_E000;

    /// <summary>Bit 21 of a 32-bit-paging PDE mapping a 4 MiB page (bits 20:13 are physical-address bits 39:32 with PSE-36, bit 12 is PAT).</summary>
    private const ulong Reserved4MPage = 1UL << 21;

    /// <summary>A PAE PDPTE (loaded by MOV to CR0/CR3/CR4, SDM §4.4.1): bits 2:1, 8:5 and 63:MAXPHYADDR are reserved.</summary>
    private const ulong ReservedPaePdpte = 0x6 | 0x1E0 | ~((1UL << PhysicalAddressBits) - 1);

    private ulong Walk(ulong la, AccessKind kind, out bool writable, out bool user, out bool dirty)
    {
        bool nxe = (Efer & EferBits.NXE) != 0;
        ulong rw = PteWrite, us = PteUser, nx = 0;
        ulong pa;
        Span<ulong> entryAddrs = stackalloc ulong[4];
        int levels = 0;
        ulong leafAddr;
        bool wide = true;

        if (LongMode)
        {
            if (!IsCanonical(la))
                throw new CpuFault(ExceptionVector.GP, 0, true);
            ulong table = Cr3 & PhysMask;
            int shift = 39;
            while (true)
            {
                ulong ea = table + ((la >> shift) & 511) * 8;
                ulong e = ReadPhys64(ea);
                if ((e & PtePresent) == 0) throw PageFault(la, kind, 0);
                bool large = shift != 12 && (e & PteLarge) != 0;
                if ((e & ReservedBits(shift, large, nxe)) != 0) throw PageFault(la, kind, PfPresent | PfReserved);
                rw &= e; us &= e; nx |= e & PteNx;
                entryAddrs[levels++] = ea;
                if (shift == 12 || large)
                {
                    ulong pageMask = (1UL << shift) - 1;
                    pa = (e & PhysMask & ~pageMask) | (la & pageMask);
                    leafAddr = ea;
                    break;
                }
                table = e & PhysMask;
                shift -= 9;
            }
        }
        else if ((Cr4 & Cr4Bits.PAE) != 0)
        {
            ulong pdpte = ReadPhys64((Cr3 & 0xFFFF_FFE0) + ((la >> 30) & 3) * 8);
            if ((pdpte & PtePresent) == 0) throw PageFault(la, kind, 0);
            // Hardware checks the PDPTEs when it loads them (MOV to CR, see CheckPaePdptes) and walks with
            // those copies; this CPU reads them afresh, so one changed since then is reported as reserved here.
            if ((pdpte & ReservedPaePdpte) != 0) throw PageFault(la, kind, PfPresent | PfReserved);
            ulong table = pdpte & PhysMask;
            int shift = 21;
            while (true)
            {
                ulong ea = table + ((la >> shift) & 511) * 8;
                ulong e = ReadPhys64(ea);
                if ((e & PtePresent) == 0) throw PageFault(la, kind, 0);
                bool large = shift == 21 && (e & PteLarge) != 0;
                if ((e & ReservedBits(shift, large, nxe)) != 0) throw PageFault(la, kind, PfPresent | PfReserved);
                rw &= e; us &= e; nx |= e & PteNx;
                entryAddrs[levels++] = ea;
                if (shift == 12 || large)
                {
                    ulong pageMask = (1UL << shift) - 1;
                    pa = (e & PhysMask & ~pageMask) | (la & pageMask);
                    leafAddr = ea;
                    break;
                }
                table = e & PhysMask;
                shift = 12;
            }
        }
        else
        {
            wide = false;
            la &= 0xFFFF_FFFF;
            ulong pdeAddr = (Cr3 & 0xFFFF_F000) + ((la >> 22) & 1023) * 4;
            ulong pde = ReadPhys32(pdeAddr);
            if ((pde & PtePresent) == 0) throw PageFault(la, kind, 0);
            rw &= pde; us &= pde;
            entryAddrs[levels++] = pdeAddr;
            if ((pde & PteLarge) != 0 && (Cr4 & Cr4Bits.PSE) != 0)
            {
                if ((pde & Reserved4MPage) != 0) throw PageFault(la, kind, PfPresent | PfReserved);
                // PSE-36: bits 20:13 of a 4 MiB PDE hold physical address bits 39:32.
                pa = (pde & 0xFFC0_0000) | ((pde >> 13 & 0xFF) << 32) | (la & 0x3F_FFFF);
                leafAddr = pdeAddr;
            }
            else
            {
                ulong pteAddr = (pde & 0xFFFF_F000) + ((la >> 12) & 1023) * 4;
                ulong pte = ReadPhys32(pteAddr);
                if ((pte & PtePresent) == 0) throw PageFault(la, kind, 0);
                rw &= pte; us &= pte;
                entryAddrs[levels++] = pteAddr;
                pa = (pte & 0xFFFF_F000) | (la & 0xFFF);
                leafAddr = pteAddr;
            }
        }

        writable = rw != 0;
        user = us != 0;
        bool isUser = Cpl == 3 && !_supervisorOverride;
        if (isUser && !user) throw PageFault(la, kind, PfPresent);
        if (kind == AccessKind.Write && !writable && (isUser || (Cr0 & Cr0Bits.WP) != 0))
            throw PageFault(la, kind, PfPresent);
        if (kind == AccessKind.Execute && nx != 0 && nxe) throw PageFault(la, kind, PfPresent);

        for (int k = 0; k < levels; k++) SetEntryBits(entryAddrs[k], PteAccessed, wide);
        ulong leaf = wide ? ReadPhys64(leafAddr) : ReadPhys32(leafAddr);
        if (kind == AccessKind.Write)
        {
            SetEntryBits(leafAddr, PteDirty, wide);
            dirty = true;
        }
        else
        {
            dirty = (leaf & PteDirty) != 0;
        }
        // A supervisor-only mapping may not be cached for a later user access and vice versa:
        // the TLB is flushed on every CPL change, so the entry is right for this CPL only.
        if (!isUser && !writable && (Cr0 & Cr0Bits.WP) == 0) writable = true;
        return pa;
    }

    /// <summary>
    /// Reserved bits of a present 64-bit entry (4-level or PAE) at the level that maps <paramref name="shift"/>
    /// address bits: those above MAXPHYADDR, XD while EFER.NXE=0, PS in a PML4E, and the low address bits
    /// of a 1 GiB or 2 MiB page. 1 GiB pages are advertised (CPUID 80000001h EDX bit 26), so PS is allowed in a PDPTE.
    /// </summary>
    private static ulong ReservedBits(int shift, bool large, bool nxe)
    {
        ulong r = ReservedAbovePhys;
        if (!nxe) r |= PteNx;
        if (shift == 39) r |= PteLarge;
        else if (large) r |= shift == 30 ? Reserved1GPage : Reserved2MPage;
        return r;
    }

    /// <summary>
    /// MOV to CR0/CR3/CR4 that leaves PAE paging on loads the four PDPTEs; one that is present with a
    /// reserved bit set makes the MOV fail with #GP(0) and the register keeps its value (SDM vol. 3 §4.4.1).
    /// </summary>
    public void CheckPaePdptes(ulong cr0, ulong cr3, ulong cr4)
    {
        if ((cr0 & Cr0Bits.PG) == 0 || (cr4 & Cr4Bits.PAE) == 0 || (Efer & EferBits.LME) != 0) return;
        ulong table = cr3 & 0xFFFF_FFE0;
        for (ulong i = 0; i < 4; i++)
        {
            ulong pdpte = ReadPhys64(table + i * 8);
            if ((pdpte & PtePresent) != 0 && (pdpte & ReservedPaePdpte) != 0) throw new CpuFault(ExceptionVector.GP, 0, true);
        }
    }

    /// <summary>True while the CPU itself accesses system structures (IDT, GDT, TSS) with supervisor rights at CPL 3.</summary>
    private bool _supervisorOverride;

    private CpuFault PageFault(ulong la, AccessKind kind, uint code)
    {
        Cr2 = la;
        if (kind == AccessKind.Write) code |= PfWrite;
        if (Cpl == 3 && !_supervisorOverride) code |= PfUser;
        if (kind == AccessKind.Execute && (Efer & EferBits.NXE) != 0 && (Cr4 & Cr4Bits.PAE) != 0) code |= PfFetch;
        return new CpuFault(ExceptionVector.PF, code, true);
    }

    public static bool IsCanonical(ulong la) => (ulong)((long)(la << 16) >> 16) == la;
}
