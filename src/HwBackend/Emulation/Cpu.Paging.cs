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
                if (!nxe && (e & PteNx) != 0) throw PageFault(la, kind, PfPresent | PfReserved);
                rw &= e; us &= e; nx |= e & PteNx;
                entryAddrs[levels++] = ea;
                bool large = (e & PteLarge) != 0;
                if (large && shift == 39) throw PageFault(la, kind, PfPresent | PfReserved);
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
            ulong table = pdpte & PhysMask;
            int shift = 21;
            while (true)
            {
                ulong ea = table + ((la >> shift) & 511) * 8;
                ulong e = ReadPhys64(ea);
                if ((e & PtePresent) == 0) throw PageFault(la, kind, 0);
                if (!nxe && (e & PteNx) != 0) throw PageFault(la, kind, PfPresent | PfReserved);
                rw &= e; us &= e; nx |= e & PteNx;
                entryAddrs[levels++] = ea;
                bool large = shift == 21 && (e & PteLarge) != 0;
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
