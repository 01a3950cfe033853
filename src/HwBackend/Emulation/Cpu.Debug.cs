using System.Runtime.CompilerServices;
using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Debug features (Intel SDM vol. 3, chapter 18): single-stepping with RFLAGS.TF, the breakpoints
/// DR0-DR3 that DR7 enables, RFLAGS.RF, and general detect.
/// <para>
/// With TF, RF and every breakpoint clear the CPU runs whole blocks, and this costs one test per
/// block. Otherwise it runs one instruction at a time here: an instruction breakpoint (R/W = 00) is
/// a fault before the instruction at its linear address unless RF is set; RF is then cleared, the
/// instruction runs, and a #DB trap follows it when it started with TF set (DR6.BS), or when its
/// data accesses overlapped a data breakpoint (R/W = 01 writes, 11 reads or writes) or its port
/// accesses an I/O breakpoint (R/W = 10, only with CR4.DE), setting DR6.Bn for each one matched.
/// Pages that hold a data breakpoint get no read or write entries in the TLB, so every access to
/// them takes the slow path, which compares it with the breakpoints.
/// </para>
/// <para>
/// No trap follows an instruction that faulted or raised a software interrupt (the handler entry
/// clears TF), and a POPF or IRET that sets TF traps only after the instruction after it. A REP
/// string instruction under TF runs one iteration and traps with RIP still at it, as one that
/// stops for a data breakpoint or any other reason before its last iteration does, and it leaves
/// RF set so that its instruction breakpoint does not fire again when it resumes.
/// </para>
/// </summary>
internal sealed unsafe partial class Cpu
{
    public const ulong Dr6Fixed = 0xFFFF_0FF0; // reserved bits that read as 1
    private const ulong Dr6Writable = 0xE00F; // B0-B3, BD, BS, BT
    private const ulong Dr6Bd = 1UL << 13;
    private const ulong Dr6SingleStep = 1UL << 14;
    public const ulong Dr7Fixed = 0x400;
    private const ulong Dr7Writable = 0xFFFF_23FF; // L0-G3, LE, GE, GD, R/W and LEN fields
    private const ulong Dr7GeneralDetect = 1UL << 13;
    private const int Dr6Index = 4, Dr7Index = 5; // Dr[] holds DR0-DR3, then DR6 and DR7

    // Non-zero while instructions must run through RunDebugStep: a breakpoint is enabled, or a trap is due.
    private uint _debugSlow;
    private const uint DebugArmed = 1, DebugTrapDue = 2;

    // DR6 bits of a #DB trap owed by an instruction that completed with an exit (port or MMIO I/O).
    private ulong _pendingDebugTrap;

    // Software interrupts delivered (INT n, INT3, INTO, INT1), so a step can tell it ran one.
    private ulong _softwareInterrupts;

    // Enabled breakpoints by kind (bit n = DRn), and the ranges they cover (first and last byte).
    private int _instructionBreakpoints, _dataBreakpoints, _writeBreakpoints, _ioBreakpoints;
    private readonly ulong[] _breakpointFirst = new ulong[4], _breakpointLast = new ulong[4];

    // Data and I/O breakpoints the current instruction has matched.
    private int _breakpointHits;

    // Asked before every block: the JIT left it a call in the (large) run loop.
    private bool DebugStepping
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ((FlagsOther & (RflagsBits.TF | RflagsBits.RF)) | (ulong)_debugSlow) != 0;
    }

    /// <summary>DR6 bits (B0-B3, BS) of a #DB trap due before the next instruction; part of the saved state.</summary>
    public ulong PendingDebugTrap
    {
        get => _pendingDebugTrap;
        set
        {
            _pendingDebugTrap = value;
            _debugSlow = value != 0 ? _debugSlow | DebugTrapDue : _debugSlow & ~DebugTrapDue;
        }
    }

    /// <summary>MOV from DRn (n as encoded, 0-15).</summary>
    public ulong ReadDebugRegister(int n) => Dr[DebugRegisterIndex(n)];

    /// <summary>MOV to DRn (n as encoded, 0-15): DR6 and DR7 keep their fixed bits; a value above 32 bits in them is #GP(0).</summary>
    public void WriteDebugRegister(int n, ulong value)
    {
        int i = DebugRegisterIndex(n);
        if (i >= Dr6Index && (value >> 32) != 0) throw new CpuFault(ExceptionVector.GP, 0, true);
        Dr[i] = i switch
        {
            Dr6Index => (value & Dr6Writable) | Dr6Fixed,
            Dr7Index => (value & Dr7Writable) | Dr7Fixed,
            _ => value,
        };
        UpdateBreakpoints();
    }

    /// <summary>
    /// The index in <see cref="Dr"/> of encoded debug register <paramref name="n"/>: #UD for DR8-DR15,
    /// and for DR4/DR5 with CR4.DE set (without it they are DR6/DR7); with DR7.GD set, any access is
    /// a #DB fault with DR6.BD (delivery then clears GD, so the handler can use the registers).
    /// </summary>
    private int DebugRegisterIndex(int n)
    {
        if (n > 7) throw new CpuFault(ExceptionVector.UD, 0, false);
        if (n is 4 or 5)
        {
            if ((Cr4 & Cr4Bits.DE) != 0) throw new CpuFault(ExceptionVector.UD, 0, false);
            n += 2;
        }
        if ((Dr[Dr7Index] & Dr7GeneralDetect) != 0)
        {
            Dr[Dr6Index] |= Dr6Bd;
            throw new CpuFault(ExceptionVector.DB, 0, false);
        }
        return n < 4 ? n : n - 2;
    }

    /// <summary>Rebuilds the enabled-breakpoint tables from DR0-DR3, DR7 and CR4.DE; call after any of them changes.</summary>
    public void UpdateBreakpoints()
    {
        ulong dr7 = Dr[Dr7Index];
        int instruction = 0, data = 0, write = 0, io = 0;
        for (int n = 0; n < 4; n++)
        {
            if (((dr7 >> (2 * n)) & 3) == 0) continue;
            int rw = (int)(dr7 >> (16 + (4 * n))) & 3;
            ulong length = ((dr7 >> (18 + (4 * n))) & 3) switch { 0 => 1UL, 1 => 2UL, 2 => 8UL, _ => 4UL };
            int bit = 1 << n;
            switch (rw)
            {
                case 0:
                    // LEN should be 00 here (any other value is undefined): the breakpoint is the one byte.
                    instruction |= bit;
                    _breakpointFirst[n] = _breakpointLast[n] = Dr[n];
                    continue;
                case 1:
                    write |= bit;
                    data |= bit;
                    break;
                case 3:
                    data |= bit;
                    break;
                default:
                    // I/O breakpoints exist only with CR4.DE; without it R/W = 10 is undefined, and here it never fires.
                    if ((Cr4 & Cr4Bits.DE) == 0) continue;
                    io |= bit;
                    break;
            }
            // The address is aligned down to the length: the processor ignores its low bits.
            _breakpointFirst[n] = Dr[n] & ~(length - 1);
            _breakpointLast[n] = _breakpointFirst[n] + length - 1;
        }
        // Watched pages must lose (or not regain) their TLB entries, so every access to them is compared.
        if ((data | _dataBreakpoints) != 0) FlushTlb();
        _instructionBreakpoints = instruction;
        _dataBreakpoints = data;
        _writeBreakpoints = write;
        _ioBreakpoints = io;
        _debugSlow = (instruction | data | io) != 0 ? _debugSlow | DebugArmed : _debugSlow & ~DebugArmed;
    }

    /// <summary>Whether the linear page <paramref name="page"/> holds a data breakpoint (one never spans two pages: it is aligned to its length).</summary>
    private bool IsWatchedPage(ulong page)
    {
        for (int n = 0; n < 4; n++)
        {
            if ((_dataBreakpoints & (1 << n)) != 0 && (_breakpointFirst[n] & PageMask) == page) return true;
        }
        return false;
    }

    /// <summary>Notes the data breakpoints a read or write of <paramref name="size"/> bytes at <paramref name="la"/> overlaps; the instruction then ends its block.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckDataBreakpoints(ulong la, int size, bool write)
    {
        int candidates = write ? _dataBreakpoints : _dataBreakpoints & ~_writeBreakpoints;
        int hits = Overlapping(candidates, la, la + (ulong)size - 1);
        if (hits == 0) return;
        _breakpointHits |= hits;
        // A REP string instruction stops after this iteration, so its trap comes right after it.
        if (WriteEvent == 0) WriteEvent = Handler.EndBlock;
    }

    /// <summary>Notes the I/O breakpoints an access of <paramref name="size"/> bytes at <paramref name="port"/> overlaps.</summary>
    private void CheckIoBreakpoints(ushort port, int size)
    {
        int hits = Overlapping(_ioBreakpoints, port, port + (ulong)size - 1);
        if (hits == 0) return;
        _breakpointHits |= hits;
        if (WriteEvent == 0) WriteEvent = Handler.EndBlock;
    }

    private int Overlapping(int candidates, ulong first, ulong last)
    {
        int hits = 0;
        for (int n = 0; n < 4; n++)
        {
            if ((candidates & (1 << n)) != 0 && first <= _breakpointLast[n] && last >= _breakpointFirst[n]) hits |= 1 << n;
        }
        return hits;
    }

    /// <summary>
    /// Runs one instruction with the debug checks around it, or delivers the trap an earlier one
    /// owes; true with <paramref name="exit"/> when the run loop must return.
    /// </summary>
    private bool RunDebugStep(out VpExit exit)
    {
        if ((_debugSlow & DebugTrapDue) != 0)
        {
            ulong owed = _pendingDebugTrap;
            PendingDebugTrap = 0;
            return !DeliverDebugException(owed, out exit);
        }

        ulong resume = FlagsOther & RflagsBits.RF;
        if (resume == 0 && _instructionBreakpoints != 0)
        {
            int hits = Overlapping(_instructionBreakpoints, (SegBase[CS] + Rip) & LinearMask, (SegBase[CS] + Rip) & LinearMask);
            // A fault, but unlike other faults it pushes RF as it is (0): the handler sets RF in the image to go on.
            if (hits != 0) return !DeliverDebugException((ulong)hits, out exit);
        }

        // RF is cleared at the start of the instruction, after the breakpoint check; IRET may set it again.
        FlagsOther &= ~RflagsBits.RF;
        // This is the instruction an STI or MOV SS shadow covered: the boundary after it takes interrupts.
        _interruptShadow = false;
        bool trapFlag = (FlagsOther & RflagsBits.TF) != 0;
        _breakpointHits = 0;
        ulong rip = Rip;
        ulong deliveries = ExceptionsDelivered + InterruptsDelivered + _softwareInterrupts;
        bool ended = RunOneInstruction(out exit);
        if (ExceptionsDelivered + InterruptsDelivered + _softwareInterrupts != deliveries)
            return ended;

        ulong trap = (trapFlag ? Dr6SingleStep : 0) | (uint)_breakpointHits;
        if (ended)
        {
            // An I/O exit. A port read awaiting its data or an unwound MMIO read runs again from the
            // start, its breakpoint already checked (a REP string instruction that stopped after an
            // iteration has set RF, and owes its trap like a completed instruction).
            if (Rip == rip && (FlagsOther & RflagsBits.RF) == 0)
            {
                FlagsOther |= resume;
                return true;
            }
            if (trap != 0) PendingDebugTrap = _pendingDebugTrap | trap;
            return true;
        }
        return trap != 0 && !DeliverDebugException(trap, out exit);
    }

    /// <summary>
    /// Delivers #DB with <paramref name="causes"/> (B0-B3, BS) added to DR6; breakpoint bits replace
    /// the previous B0-B3. The pushed RF is RF as it is. False when delivery shut the processor down.
    /// </summary>
    private bool DeliverDebugException(ulong causes, out VpExit shutdown)
    {
        ulong dr6 = Dr[Dr6Index];
        if ((causes & 0xF) != 0) dr6 &= ~0xFUL;
        Dr[Dr6Index] = dr6 | causes;
        _last = null;
        return DeliverException(ExceptionVector.DB, 0, false, resumeFlag: false, out shutdown);
    }
}
