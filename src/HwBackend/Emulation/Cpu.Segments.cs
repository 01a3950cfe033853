using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Segment registers, descriptor tables and the processor mode derived from them: decoder bitness,
/// effective segment bases (zero for ES/CS/SS/DS in 64-bit mode) and the linear-address width.
/// </summary>
internal sealed unsafe partial class Cpu
{
    private SystemPageCache _systemPages;

    /// <summary>Recomputes everything derived from CR0, EFER, CS and the segment bases.</summary>
    public void OnModeChanged()
    {
        ulong codeBase = SegBase[CS];
        int bitness = Bitness;
        if ((Cr0 & Cr0Bits.PE) == 0) Bitness = 16;
        else if (LongMode && Segs[CS].Long) Bitness = 64;
        else Bitness = Segs[CS].DefaultBig ? 32 : 16;
        LinearMask = Bitness == 64 ? ulong.MaxValue : 0xFFFF_FFFF;
        for (int s = 0; s < 6; s++)
            SegBase[s] = Bitness == 64 && s < FS ? 0 : Segs[s].Base;
        if (Bitness != 64)
        {
            SegBase[FS] &= 0xFFFF_FFFF;
            SegBase[GS] &= 0xFFFF_FFFF;
        }
        // Block links name their successors by RIP, which means the same code only while CS's base and the
        // code size stay: an interrupt or IRET within one mode keeps them, and the links with them.
        if (SegBase[CS] != codeBase || Bitness != bitness)
            NewEpoch();
    }

    /// <summary>Changes the CPL; between user mode and the rest that changes which TLB (and block links) are in use.</summary>
    public void SetCpl(int cpl)
    {
        if (cpl == Cpl) return;
        bool user = cpl == 3;
        bool changesTlb = user != (Cpl == 3);
        Cpl = cpl;
        if (changesTlb) SelectTlb(user);
    }

    /// <summary>Loads a segment register in real mode: base = selector * 16, other attributes kept.</summary>
    public void LoadRealModeSegment(int seg, ushort selector)
    {
        Segs[seg] = Segs[seg] with { Selector = selector, Base = (ulong)selector << 4, Present = true, Unusable = false };
        SegBase[seg] = (ulong)selector << 4;
        if (seg == CS) OnModeChanged();
    }

    /// <summary>Reads the 8-byte descriptor for <paramref name="selector"/> from the GDT or LDT; #GP(selector) when outside the table.</summary>
    public ulong ReadDescriptor(ushort selector, out ulong address)
    {
        bool ldt = (selector & 4) != 0;
        ulong tableBase = ldt ? Ldtr.Base : Gdtr.Base;
        ulong limit = ldt ? Ldtr.Limit : Gdtr.Limit;
        ulong index = (ulong)(selector & ~7);
        if ((ldt && Ldtr.Unusable) || index + 7 > limit)
            throw new CpuFault(ExceptionVector.GP, (uint)(selector & ~3), true);
        address = tableBase + index;
        return ReadSystem64(address);
    }

    public static SegmentRegister DecodeDescriptor(ushort selector, ulong d)
    {
        uint limit = (uint)(d & 0xFFFF) | (uint)((d >> 32) & 0xF_0000);
        bool g = (d & (1UL << 55)) != 0;
        if (g) limit = (limit << 12) | 0xFFF;
        ulong b = ((d >> 16) & 0xFF_FFFF) | (((d >> 56) & 0xFF) << 24);
        return new SegmentRegister(
            selector, b, limit,
            Type: (byte)((d >> 40) & 0xF),
            Present: (d & (1UL << 47)) != 0,
            Dpl: (byte)((d >> 45) & 3),
            DefaultBig: (d & (1UL << 54)) != 0,
            CodeOrData: (d & (1UL << 44)) != 0,
            Long: (d & (1UL << 53)) != 0,
            Granularity: g,
            Available: (d & (1UL << 52)) != 0,
            Unusable: false);
    }

    /// <summary>
    /// Loads a data or stack segment register in protected mode with the SDM's checks: a null selector
    /// is allowed (unusable) except for SS outside 64-bit mode; the descriptor must be data or readable
    /// code, present, and privileged no more than CPL/RPL allow.
    /// </summary>
    public void LoadSegment(int seg, ushort selector)
    {
        if (!ProtectedMode)
        {
            LoadRealModeSegment(seg, selector);
            return;
        }
        if ((selector & ~3) == 0)
        {
            if (seg == SS && (Bitness != 64 || (selector & 3) != Cpl))
                throw new CpuFault(ExceptionVector.GP, 0, true);
            Segs[seg] = SegmentRegister.Null with { Selector = selector };
            SegBase[seg] = 0;
            return;
        }
        var desc = DecodeDescriptor(selector, ReadDescriptor(selector, out ulong address));
        int rpl = selector & 3;
        uint err = (uint)(selector & ~3);
        bool code = (desc.Type & 8) != 0;
        if (!desc.CodeOrData) throw new CpuFault(ExceptionVector.GP, err, true);
        if (seg == SS)
        {
            if (code || (desc.Type & 2) == 0 || rpl != Cpl || desc.Dpl != Cpl) throw new CpuFault(ExceptionVector.GP, err, true);
            if (!desc.Present) throw new CpuFault(ExceptionVector.SS, err, true);
        }
        else
        {
            if (code && (desc.Type & 2) == 0) throw new CpuFault(ExceptionVector.GP, err, true);
            bool conforming = code && (desc.Type & 4) != 0;
            if (!conforming && desc.Dpl < Math.Max(Cpl, rpl)) throw new CpuFault(ExceptionVector.GP, err, true);
            if (!desc.Present) throw new CpuFault(ExceptionVector.NP, err, true);
        }
        SetAccessedBit(address);
        Segs[seg] = desc with { Type = (byte)(desc.Type | 1) };
        SegBase[seg] = Bitness == 64 && seg < FS ? 0 : desc.Base & (Bitness == 64 ? ulong.MaxValue : 0xFFFF_FFFF);
    }

    /// <summary>Loads CS for a far transfer to a code segment at privilege <paramref name="newCpl"/>.</summary>
    public void LoadCodeSegment(ushort selector, int newCpl)
    {
        if (!ProtectedMode)
        {
            LoadRealModeSegment(CS, selector);
            return;
        }
        if ((selector & ~3) == 0) throw new CpuFault(ExceptionVector.GP, 0, true);
        var desc = DecodeDescriptor(selector, ReadDescriptor(selector, out ulong address));
        uint err = (uint)(selector & ~3);
        if (!desc.CodeOrData || (desc.Type & 8) == 0) throw new CpuFault(ExceptionVector.GP, err, true);
        if (!desc.Present) throw new CpuFault(ExceptionVector.NP, err, true);
        if (LongMode && desc.Long && desc.DefaultBig) throw new CpuFault(ExceptionVector.GP, err, true);
        SetAccessedBit(address);
        Segs[CS] = desc with { Selector = (ushort)((selector & ~3) | newCpl), Type = (byte)(desc.Type | 1) };
        SetCpl(newCpl);
        OnModeChanged();
    }

    private void SetAccessedBit(ulong descriptorAddress)
    {
        byte type = ReadSystem8(descriptorAddress + 5);
        if ((type & 1) == 0) WriteSystem8(descriptorAddress + 5, (byte)(type | 1));
    }

    /// <summary>
    /// System-structure reads (GDT, IDT, TSS) use supervisor rights whatever the CPL, and never fill
    /// the TLB. The pages they translate are kept until the TLB is next flushed (<see cref="SystemPageCache"/>):
    /// a page walk for each read made a delivery cost more than the handler it ran.
    /// </summary>
    public ulong ReadSystem64(ulong la)
    {
        ulong linear = la & LinearMask;
        byte* kept = (linear & 0xFFF) <= 0xFF8 ? _systemPages.Find(linear & ~0xFFFUL, _tlbGeneration) : null;
        if (kept != null)
            return *(ulong*)(kept + (linear & 0xFFF));
        bool saved = _supervisorOverride;
        _supervisorOverride = true;
        try
        {
            // One walk when the eight bytes share a page, which they nearly always do.
            if ((linear & 0xFFF) <= 0xFF8)
            {
                byte* whole = TranslateSystem(la, AccessKind.Read, out _);
                if (whole == null)
                    return ulong.MaxValue;
                _systemPages.Add(linear & ~0xFFFUL, whole - (linear & 0xFFF), _tlbGeneration);
                return *(ulong*)whole;
            }
            ulong v = 0;
            for (int k = 0; k < 8; k++)
            {
                // Descriptor tables, the IDT and the TSS are not device registers: outside RAM they read
                // as all-ones (and then fail their checks) instead of turning into MMIO exits mid-delivery.
                byte* p = TranslateSystem(la + (ulong)k, AccessKind.Read, out _);
                v |= (ulong)(p != null ? *p : (byte)0xFF) << (8 * k);
            }
            return v;
        }
        finally
        {
            _supervisorOverride = saved;
        }
    }

    public ulong ReadSystem(ulong la, int size)
    {
        ulong v = ReadSystem64(la);
        return size == 8 ? v : v & ((1UL << (8 * size)) - 1);
    }

    public byte ReadSystem8(ulong la) => (byte)ReadSystem64(la);

    public void WriteSystem8(ulong la, byte value)
    {
        bool saved = _supervisorOverride;
        _supervisorOverride = true;
        try
        {
            byte* p = TranslateSystem(la, AccessKind.Write, out _);
            if (p != null) *p = value;
        }
        finally
        {
            _supervisorOverride = saved;
        }
    }

    private unsafe byte* TranslateSystem(ulong la, AccessKind kind, out ulong pa) =>
        Translate(la & LinearMask, kind, out pa, fillTlb: false);
}
