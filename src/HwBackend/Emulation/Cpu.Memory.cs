using System.Runtime.CompilerServices;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Linear-address memory access through a direct-mapped software TLB. Each entry maps a 4 KiB
/// linear page to a host pointer (stored as an addend) with separate read, write and execute tags,
/// so one compare decides the fast path. A write entry exists only for pages that are writable,
/// already dirty in the page tables and the dirty log, and hold no decoded code: every write that
/// needs bookkeeping takes the slow path, and the fast path does none.
/// An entry holds the rights of the privilege it was filled at, so there are two TLBs, one for
/// CPL 3 and one for CPL 0-2, as QEMU keeps one per MMU index: a system call or an interrupt from
/// user mode switches between them instead of flushing (it flushed twice per system call before,
/// and dropped every block link with it). A paging-mode change or a flush empties both.
/// </summary>
internal sealed unsafe partial class Cpu
{
    private const int TlbEntries = 1024;
    private const int TlbIndexMask = TlbEntries - 1;
    private const int TlbBytes = TlbEntries * 8 * 4; // one privilege's TLB: read, write and execute tags, addends
    private const int TlbSetBytes = 2 * TlbBytes;
    private const ulong PageMask = ~0xFFFUL;
    private const ulong InvalidTag = 1; // never equal to a page-aligned address

    // The current privilege's TLB, inside _supervisorTlb or _userTlb.
    private ulong* _tlbRead;
    private ulong* _tlbWrite;
    private ulong* _tlbExec;
    private long* _tlbAddend;
    private byte* _supervisorTlb;
    private byte* _userTlb;

    // Counts TLB flushes, for what keeps a translation outside the TLB (the system-read page).
    private long _tlbGeneration;

    /// <summary>
    /// Renewed on every TLB flush and code invalidation; chained block links are valid only within one
    /// epoch. Each privilege has its own (<see cref="_userEpoch"/>, <see cref="_supervisorEpoch"/>, never
    /// equal), because a link skips the check that the next block's page may be executed at this CPL:
    /// a link made in the kernel is not followed in user mode, and both survive a switch between them.
    /// </summary>
    public ulong Epoch;
    private ulong _userEpoch, _supervisorEpoch, _lastEpoch;

    /// <summary>Set by slow paths during an instruction: the handler must end the block (1) or exit to the host (2) after it.</summary>
    public int WriteEvent;

    public ulong UnmappedReads, UnmappedWrites;

    private static readonly byte* s_allOnesPage = CreateAllOnesPage();

    private static byte* CreateAllOnesPage()
    {
        var p = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(2 * GuestRam.PageSize, GuestRam.PageSize);
        new Span<byte>(p, 2 * GuestRam.PageSize).Fill(0xFF);
        return p;
    }

    private void InitTlb(byte* p)
    {
        _supervisorTlb = p;
        _userTlb = p + TlbBytes;
        SelectTlb(user: false);
        FlushTlb();
    }

    /// <summary>Makes the user (CPL 3) or the supervisor TLB, and its epoch, the current ones.</summary>
    private void SelectTlb(bool user)
    {
        _tlbRead = (ulong*)(user ? _userTlb : _supervisorTlb);
        _tlbWrite = _tlbRead + TlbEntries;
        _tlbExec = _tlbWrite + TlbEntries;
        _tlbAddend = (long*)(_tlbExec + TlbEntries);
        Epoch = user ? _userEpoch : _supervisorEpoch;
    }

    /// <summary>Starts a new epoch for both privileges: every block link is made again before it is followed.</summary>
    public void NewEpoch()
    {
        _supervisorEpoch = ++_lastEpoch;
        _userEpoch = ++_lastEpoch;
        Epoch = Cpl == 3 ? _userEpoch : _supervisorEpoch;
    }

    public void FlushTlb()
    {
        ClearTags((ulong*)_supervisorTlb, 3 * TlbEntries); // read, write and execute
        ClearTags((ulong*)_userTlb, 3 * TlbEntries);
        NewEpoch();
        _tlbGeneration++;
    }

    public void FlushTlbPage(ulong la)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        foreach (var tags in (ReadOnlySpan<nint>)[(nint)_supervisorTlb, (nint)_userTlb])
        {
            var tag = (ulong*)tags;
            tag[i] = tag[TlbEntries + i] = tag[(2 * TlbEntries) + i] = InvalidTag;
        }
        NewEpoch();
        _tlbGeneration++;
    }

    /// <summary>Drops write entries so the next write to any page goes through the slow path (code or dirty tracking changed).</summary>
    public void FlushWriteTlb()
    {
        ClearTags((ulong*)_supervisorTlb + TlbEntries, TlbEntries);
        ClearTags((ulong*)_userTlb + TlbEntries, TlbEntries);
    }

    private static void ClearTags(ulong* tags, int count) => new Span<ulong>(tags, count).Fill(InvalidTag);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read8(ulong la)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbRead[i] == (la & PageMask)) return *(byte*)((long)la + _tlbAddend[i]);
        return (byte)ReadSlow(la, 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Read16(ulong la)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbRead[i] == ((la + 1) & PageMask)) return *(ushort*)((long)la + _tlbAddend[i]);
        return (ushort)ReadSlow(la, 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read32(ulong la)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbRead[i] == ((la + 3) & PageMask)) return *(uint*)((long)la + _tlbAddend[i]);
        return (uint)ReadSlow(la, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read64(ulong la)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbRead[i] == ((la + 7) & PageMask)) return *(ulong*)((long)la + _tlbAddend[i]);
        return ReadSlow(la, 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write8(ulong la, byte v)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbWrite[i] == (la & PageMask)) *(byte*)((long)la + _tlbAddend[i]) = v;
        else WriteSlow(la, 1, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write16(ulong la, ushort v)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbWrite[i] == ((la + 1) & PageMask)) *(ushort*)((long)la + _tlbAddend[i]) = v;
        else WriteSlow(la, 2, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write32(ulong la, uint v)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbWrite[i] == ((la + 3) & PageMask)) *(uint*)((long)la + _tlbAddend[i]) = v;
        else WriteSlow(la, 4, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write64(ulong la, ulong v)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbWrite[i] == ((la + 7) & PageMask)) *(ulong*)((long)la + _tlbAddend[i]) = v;
        else WriteSlow(la, 8, v);
    }

    /// <summary>
    /// Host pointer for a read-modify-write or locked access of <paramref name="size"/> bytes that stays
    /// within one RAM page, or null when the caller must fall back to separate read and write.
    /// Checks write permission first so a fault leaves memory untouched.
    /// </summary>
    public byte* TryWritablePointer(ulong la, int size)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbWrite[i] == ((la + (ulong)size - 1) & PageMask)) return (byte*)((long)la + _tlbAddend[i]);
        if ((la & 0xFFF) + (ulong)size > 0x1000) return null;
        byte* p = Translate(la, AccessKind.Write, out _);
        return p != null && _tlbWrite[i] == (la & PageMask) ? p : null;
    }

    /// <summary>Host pointer for a read of <paramref name="size"/> bytes within one RAM page, or null.</summary>
    public byte* TryReadablePointer(ulong la, int size)
    {
        int i = (int)(la >> 12) & TlbIndexMask;
        if (_tlbRead[i] == ((la + (ulong)size - 1) & PageMask)) return (byte*)((long)la + _tlbAddend[i]);
        if ((la & 0xFFF) + (ulong)size > 0x1000) return null;
        // A bulk read could cross a data breakpoint: with any armed, callers go an element at a time.
        if (_dataBreakpoints != 0) return null;
        return Translate(la, AccessKind.Read, out _);
    }

    public void ReadBytes(ulong la, Span<byte> dst)
    {
        for (int k = 0; k < dst.Length; k++) dst[k] = Read8(la + (ulong)k);
    }

    public void WriteBytes(ulong la, ReadOnlySpan<byte> src)
    {
        // Probe every page first: a fault on the last page must not leave the first one written.
        if (src.Length > 0) ProbeWrite(la, src.Length);
        for (int k = 0; k < src.Length; k++) Write8(la + (ulong)k, src[k]);
    }

    public void ProbeWrite(ulong la, int size)
    {
        Translate(la, AccessKind.Write, out _, fillTlb: false);
        ulong last = la + (ulong)size - 1;
        if ((last & PageMask) != (la & PageMask)) Translate(last, AccessKind.Write, out _, fillTlb: false);
    }

    public void ProbeRead(ulong la, int size)
    {
        Translate(la, AccessKind.Read, out _, fillTlb: false);
        ulong last = la + (ulong)size - 1;
        if ((last & PageMask) != (la & PageMask)) Translate(last, AccessKind.Read, out _, fillTlb: false);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong ReadSlow(ulong la, int size)
    {
        la &= LinearMask;
        if (_dataBreakpoints != 0) CheckDataBreakpoints(la, size, write: false);
        if ((la & 0xFFF) + (ulong)size > 0x1000)
        {
            ProbeRead(la, size);
            ulong v = 0;
            for (int k = 0; k < size; k++) v |= (ulong)Read8((la + (ulong)k) & LinearMask) << (8 * k);
            return v;
        }
        byte* p = Translate(la, AccessKind.Read, out ulong pa);
        if (p != null)
        {
            return size switch
            {
                1 => *p,
                2 => *(ushort*)p,
                4 => *(uint*)p,
                _ => *(ulong*)p,
            };
        }
        return ReadNonRam(pa, size);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WriteSlow(ulong la, int size, ulong v)
    {
        la &= LinearMask;
        if (_dataBreakpoints != 0) CheckDataBreakpoints(la, size, write: true);
        if ((la & 0xFFF) + (ulong)size > 0x1000)
        {
            ProbeWrite(la, size);
            for (int k = 0; k < size; k++) Write8((la + (ulong)k) & LinearMask, (byte)(v >> (8 * k)));
            return;
        }
        byte* p = Translate(la, AccessKind.Write, out ulong pa);
        if (p == null)
        {
            WriteNonRam(pa, size, v);
            return;
        }
        switch (size)
        {
            case 1: *p = (byte)v; break;
            case 2: *(ushort*)p = (ushort)v; break;
            case 4: *(uint*)p = (uint)v; break;
            default: *(ulong*)p = v; break;
        }
    }

    private ulong ReadNonRam(ulong pa, int size)
    {
        if (IsApicPage(pa)) return _apic!.ReadMmio((uint)(pa & 0xFFF), size);
        var region = Memory.FindRegion(pa);
        if (region is { Kind: GuestMemoryRegionKind.Mmio })
            return MmioRead(pa, size);
        UnmappedReads++;
        return size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
    }

    private void WriteNonRam(ulong pa, int size, ulong v)
    {
        if (IsApicPage(pa))
        {
            _apic!.WriteMmio((uint)(pa & 0xFFF), size, v);
            return;
        }
        var region = Memory.FindRegion(pa);
        if (region is { Kind: GuestMemoryRegionKind.Mmio })
        {
            MmioWrite(pa, size, v);
            return;
        }
        UnmappedWrites++;
    }

    /// <summary>
    /// Translates a linear address for an access, raising #PF as the guest's page tables say, and
    /// fills the TLB. Returns the host pointer for RAM, or null for MMIO and unmapped space
    /// (<paramref name="pa"/> then tells which).
    /// </summary>
    public byte* Translate(ulong la, AccessKind kind, out ulong pa, bool fillTlb = true)
    {
        bool writable = true, user = true, dirty = true;
        pa = PagingEnabled ? Walk(la, kind, out writable, out user, out dirty) : la & 0xFFFF_FFFF;
        byte* host = Memory.TryGetRamPointer(pa);
        if (host == null)
            return null;

        ulong ramPage = (ulong)(host - Memory.Ram.HostPointer) >> 12;
        if (kind == AccessKind.Write)
        {
            Memory.DirtyLog.MarkDirty(ramPage);
            if (Machine.CodePages.HasCode(ramPage))
            {
                Machine.InvalidateCode(ramPage);
                WriteEvent = WriteEvent < 1 ? 1 : WriteEvent;
            }
        }

        if (fillTlb)
        {
            int i = (int)(la >> 12) & TlbIndexMask;
            ulong tag = la & PageMask;
            long addend = (long)(host - (long)(la & 0xFFF)) - (long)tag;
            if (_tlbAddend[i] != addend || (_tlbRead[i] != tag && _tlbWrite[i] != tag && _tlbExec[i] != tag))
            {
                _tlbRead[i] = _tlbWrite[i] = _tlbExec[i] = InvalidTag;
                _tlbAddend[i] = addend;
            }
            // A page with a data breakpoint gets no read or write entry: its accesses take the slow path.
            bool watched = _dataBreakpoints != 0 && IsWatchedPage(tag);
            if (kind == AccessKind.Execute) _tlbExec[i] = tag;
            else if (!watched) _tlbRead[i] = tag;
            if (!watched && writable && dirty && (kind == AccessKind.Write || Memory.DirtyLog.IsDirty(ramPage)) && !Machine.CodePages.HasCode(ramPage))
                _tlbWrite[i] = tag;
            _ = user;
        }
        return host;
    }

    /// <summary>Host pointer for instruction bytes at linear <paramref name="la"/>; MMIO and unmapped space fetch as 0xFF.</summary>
    public byte* TranslateCode(ulong la, out ulong ramPage)
    {
        la &= LinearMask;
        int i = (int)(la >> 12) & TlbIndexMask;
        byte* host = _tlbExec[i] == (la & PageMask)
            ? (byte*)((long)la + _tlbAddend[i])
            : Translate(la, AccessKind.Execute, out _);
        if (host == null)
        {
            ramPage = ulong.MaxValue;
            return s_allOnesPage + (la & 0xFFF);
        }
        ramPage = (ulong)(host - Memory.Ram.HostPointer) >> 12;
        return host;
    }

    /// <summary>Reads a physical address for the page walker; non-RAM reads as all-ones.</summary>
    private ulong ReadPhys64(ulong pa)
    {
        byte* p = Memory.TryGetRamPointer(pa);
        return p != null ? *(ulong*)p : ulong.MaxValue;
    }

    private uint ReadPhys32(ulong pa)
    {
        byte* p = Memory.TryGetRamPointer(pa);
        return p != null ? *(uint*)p : uint.MaxValue;
    }

    /// <summary>Sets accessed/dirty bits in a paging-structure entry the way the processor does: atomically, only when needed.</summary>
    private void SetEntryBits(ulong pa, ulong bits, bool wide)
    {
        byte* p = Memory.TryGetRamPointer(pa);
        if (p == null) return;
        if (wide)
        {
            if ((*(ulong*)p & bits) != bits) Interlocked.Or(ref *(ulong*)p, bits);
        }
        else if ((*(uint*)p & (uint)bits) != (uint)bits)
        {
            Interlocked.Or(ref *(uint*)p, (uint)bits);
        }
        Memory.DirtyLog.MarkDirty((ulong)(p - Memory.Ram.HostPointer) >> 12);
    }
}

internal enum AccessKind
{
    Read,
    Write,
    Execute,
}
