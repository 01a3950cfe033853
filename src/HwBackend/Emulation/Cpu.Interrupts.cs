using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Exception and interrupt delivery through the guest's IVT or IDT (Intel SDM vol. 3, chapter 6):
/// gate checks, privilege changes with the TSS stack switch, IST in 64-bit mode, error codes, and the
/// double-fault / triple-fault escalation. External interrupts come from <see cref="InjectExternalInterrupt"/>.
/// <para>
/// NMIs (SDM 6.7.1 and 34.8, "NMI handling while an NMI handler runs"): one latch per processor,
/// set from any thread by <see cref="InjectNmi"/>, delivered as vector 2 at the next instruction
/// boundary whatever RFLAGS.IF says. Delivery sets NMI blocking, which the next IRET ends; an NMI
/// that arrives meanwhile stays latched (one at most) and comes after that IRET. The STI/MOV SS
/// shadow holds NMIs too for its one instruction: the SDM requires that for MOV SS and allows it
/// for STI, and it keeps one rule for every event here.
/// </para>
/// </summary>
internal sealed unsafe partial class Cpu
{
    private int _pendingInterrupt = -1;
    private bool _interruptWindowRequested;
    private bool _interruptShadow;
    // 1 while an NMI is latched and not yet delivered: written from any thread, taken on the vCPU's.
    private int _nmiPending;
    // Set when an NMI is delivered, cleared by the next IRET; the vCPU's thread only.
    private bool _nmiBlocked;

    public ulong ExceptionsDelivered, InterruptsDelivered;

    public int PendingInterruptVector => _pendingInterrupt;

    public bool InterruptShadow
    {
        get => _interruptShadow;
        set => _interruptShadow = value;
    }

    public void InjectExternalInterrupt(byte vector)
    {
        Volatile.Write(ref _pendingInterrupt, vector);
        Interlocked.Or(ref Events, EventInterrupt);
    }

    /// <summary>An NMI latched and not yet delivered (vCPU state, for snapshots).</summary>
    public bool NmiPending
    {
        get => Volatile.Read(ref _nmiPending) != 0;
        set
        {
            Volatile.Write(ref _nmiPending, value ? 1 : 0);
            if (value) Interlocked.Or(ref Events, EventInterrupt);
        }
    }

    /// <summary>An NMI handler runs: further NMIs wait for the next IRET (vCPU state, for snapshots).</summary>
    public bool NmiBlocked
    {
        get => _nmiBlocked;
        set => _nmiBlocked = value;
    }

    /// <summary>
    /// Latches an NMI; any thread. False when one was latched already: the latch holds one, so this
    /// one is lost, as on hardware.
    /// </summary>
    public bool InjectNmi()
    {
        bool latched = Interlocked.Exchange(ref _nmiPending, 1) == 0;
        Interlocked.Or(ref Events, EventInterrupt);
        return latched;
    }

    /// <summary>IRET completed: it ends NMI blocking, and a latched NMI is due at the next boundary.</summary>
    public void EndNmiBlocking()
    {
        _nmiBlocked = false;
        if (Volatile.Read(ref _nmiPending) != 0) Interlocked.Or(ref Events, EventInterrupt);
    }

    public void RequestInterruptWindow(bool enable)
    {
        _interruptWindowRequested = enable;
        if (enable) Interlocked.Or(ref Events, EventWindow);
    }

    public void SetPendingInterrupt(int vector) => _pendingInterrupt = vector;

    /// <summary>Hears of unknown MSRs and unimplemented instructions the guest used; see <see cref="IUnimplementedSink"/>.</summary>
    public IUnimplementedSink? Unimplemented;

    /// <summary>The Hyper-V CPUID leaves and synthetic MSRs, when the partition is enlightened.</summary>
    public ISyntheticRegisters? Synthetic;

    /// <summary>After STI/IRET/SYSRET/POPF may have set IF: look for a pending interrupt at the next boundary.</summary>
    public void InterruptWindowMayOpen()
    {
        if (_pendingInterrupt >= 0 || _interruptWindowRequested || _apic != null || Volatile.Read(ref _nmiPending) != 0)
            Interlocked.Or(ref Events, EventInterrupt);
    }

    /// <summary>
    /// Delivers an injected interrupt, or acknowledges one from the attached controller, when the
    /// guest can take it (IF set, no STI/MOV SS shadow). True when one was delivered.
    /// </summary>
    private bool TryDeliverInterrupt()
    {
        if (Volatile.Read(ref _nmiPending) != 0 && !_nmiBlocked) return TryDeliverNmi();
        int vector = Volatile.Read(ref _pendingInterrupt);
        var apic = _apic;
        if (vector < 0 && apic == null) return false;
        if (!IF || _interruptShadow)
        {
            // Look again between blocks until the guest opens the window; the shadow lasts one instruction.
            if (vector >= 0 || apic!.HasDeliverableInterrupt)
                Interlocked.Or(ref Events, EventInterrupt);
            return false;
        }
        if (vector >= 0)
        {
            Interlocked.CompareExchange(ref _pendingInterrupt, -1, vector);
        }
        else
        {
            vector = apic!.TryAcknowledgeInterrupt();
            if (vector < 0) return false;
        }
        Halted = false;
        _last = null;
        InterruptsDelivered++;
        try
        {
            Deliver((byte)vector, 0, hasErrorCode: false, software: false, nextIp: Rip);
        }
        catch (CpuFault f)
        {
            if (!DeliverException(f.Vector, f.ErrorCode, f.HasErrorCode, out _)) Shutdown();
        }
        return true;
    }

    /// <summary>Delivers the latched NMI through IDT vector 2 unless the STI/MOV SS shadow holds it one more instruction.</summary>
    private bool TryDeliverNmi()
    {
        if (_interruptShadow)
        {
            Interlocked.Or(ref Events, EventInterrupt);
            return false;
        }
        Volatile.Write(ref _nmiPending, 0);
        // Blocking starts with delivery, even one that faults: the handler, or whatever the fault
        // leads to, ends it with its IRET.
        _nmiBlocked = true;
        Halted = false;
        _last = null;
        InterruptsDelivered++;
        try
        {
            Deliver(ExceptionVector.NMI, 0, hasErrorCode: false, software: false, nextIp: Rip);
        }
        catch (CpuFault f)
        {
            if (!DeliverException(f.Vector, f.ErrorCode, f.HasErrorCode, out _)) Shutdown();
        }
        // An external interrupt may be waiting too: look again at the next boundary.
        Interlocked.Or(ref Events, EventInterrupt);
        return true;
    }

    /// <summary>
    /// Delivers a fault raised by an instruction whose address is in RIP. A fault while delivering is
    /// escalated as the SDM's table 6-5 says: page-fault or contributory pairs become #DF, and a fault
    /// while delivering #DF is a triple fault (false, with the shutdown exit). The RFLAGS image has
    /// RF set, as for every fault (SDM 18.3.1.1), so the handler's IRET does not make an instruction
    /// breakpoint on the restarted instruction fire again; #DF, an abort, pushes RF as it is.
    /// </summary>
    public bool DeliverException(byte vector, uint errorCode, bool hasErrorCode, out VpExit shutdown) =>
        DeliverException(vector, errorCode, hasErrorCode, resumeFlag: vector != ExceptionVector.DF, out shutdown);

    /// <summary>As above; <paramref name="resumeFlag"/> false pushes RF as it is (traps, and #DB for an instruction breakpoint).</summary>
    private bool DeliverException(byte vector, uint errorCode, bool hasErrorCode, bool resumeFlag, out VpExit shutdown)
    {
        ExceptionsDelivered++;
        byte current = vector;
        for (int attempt = 0; attempt < 4; attempt++)
        {
            try
            {
                // A fault while delivering is a fault: it pushes RF = 1 whatever the first event was.
                bool setResume = attempt == 0 ? resumeFlag : current != ExceptionVector.DF;
                Deliver(current, errorCode, hasErrorCode, software: false, nextIp: Rip, setResume);
                Halted = false;
                shutdown = default;
                return true;
            }
            catch (CpuFault nested)
            {
                if (current == ExceptionVector.DF) break;
                bool df = (current == ExceptionVector.PF && (nested.Vector == ExceptionVector.PF || ExceptionVector.IsContributory(nested.Vector)))
                    || (ExceptionVector.IsContributory(current) && ExceptionVector.IsContributory(nested.Vector));
                current = df ? ExceptionVector.DF : nested.Vector;
                errorCode = df ? 0 : nested.ErrorCode;
                hasErrorCode = df || nested.HasErrorCode;
            }
        }
        Shutdown();
        shutdown = PendingExit;
        return false;
    }

    public void Shutdown()
    {
        PendingExit = new VpExit(VpExitReason.Shutdown, Message: "triple fault");
        Halted = true;
        Events |= EventStop;
    }

    /// <summary>INT n, INT3, INTO, INT1: software interrupts check the gate's DPL against CPL.</summary>
    public void SoftwareInterrupt(byte vector, ulong nextIp, bool checkGateDpl)
    {
        _softwareInterrupts++;
        Deliver(vector, 0, hasErrorCode: false, software: checkGateDpl, nextIp: nextIp);
    }

    /// <summary><paramref name="setResume"/> sets RF in the pushed RFLAGS image (faults); otherwise RF is pushed as it is.</summary>
    private void Deliver(byte vector, uint errorCode, bool hasErrorCode, bool software, ulong nextIp, bool setResume = false)
    {
        _last = null;
        // Entering the #DB handler clears DR7.GD, so the handler can use the debug registers (SDM 18.2.4).
        if (vector == ExceptionVector.DB && !software) Dr[Dr7Index] &= ~Dr7GeneralDetect;
        if (!ProtectedMode)
        {
            DeliverReal(vector, nextIp);
            return;
        }
        ulong image = GetRflags() | (setResume ? RflagsBits.RF : 0);
        if (LongMode) DeliverLong(vector, errorCode, hasErrorCode, software, nextIp, image);
        else DeliverProtected(vector, errorCode, hasErrorCode, software, nextIp, image);
    }

    private void DeliverReal(byte vector, ulong returnIp)
    {
        ulong entry = (ulong)vector * 4;
        if (entry + 3 > Idtr.Limit) throw new CpuFault(ExceptionVector.GP, 0, true);
        uint target = (uint)ReadSystem(Idtr.Base + entry, 4);
        Push16((ushort)GetRflags());
        Push16(Segs[CS].Selector);
        Push16((ushort)returnIp);
        FlagsOther &= ~(RflagsBits.IF | RflagsBits.TF | RflagsBits.AC);
        LoadRealModeSegment(CS, (ushort)(target >> 16));
        Rip = target & 0xFFFF;
    }

    private static uint GateError(byte vector, bool software) => (uint)(vector * 8 + 2 + (software ? 0 : 1));

    private void DeliverProtected(byte vector, uint errorCode, bool hasErrorCode, bool software, ulong returnIp, ulong flags)
    {
        ulong entry = (ulong)vector * 8;
        if (entry + 7 > Idtr.Limit) throw new CpuFault(ExceptionVector.GP, GateError(vector, software), true);
        ulong gate = ReadSystem64(Idtr.Base + entry);
        int type = (int)((gate >> 40) & 0x1F);
        int gateDpl = (int)((gate >> 45) & 3);
        bool is32 = type is 0xE or 0xF;
        if (type is not (0x6 or 0x7 or 0xE or 0xF)) throw new CpuFault(ExceptionVector.GP, GateError(vector, software), true);
        if (software && gateDpl < Cpl) throw new CpuFault(ExceptionVector.GP, GateError(vector, software), true);
        if ((gate & (1UL << 47)) == 0) throw new CpuFault(ExceptionVector.NP, GateError(vector, software), true);
        ushort selector = (ushort)(gate >> 16);
        uint offset = (uint)(gate & 0xFFFF) | (uint)((gate >> 32) & 0xFFFF_0000);
        if (!is32) offset &= 0xFFFF;

        if ((selector & ~3) == 0) throw new CpuFault(ExceptionVector.GP, 0, true);
        var target = DecodeDescriptor(selector, ReadDescriptor(selector, out _));
        if (!target.CodeOrData || (target.Type & 8) == 0 || target.Dpl > Cpl)
            throw new CpuFault(ExceptionVector.GP, (uint)(selector & ~3), true);
        if (!target.Present) throw new CpuFault(ExceptionVector.NP, (uint)(selector & ~3), true);

        bool conforming = (target.Type & 4) != 0;
        int newCpl = conforming ? Cpl : target.Dpl;
        ushort oldCs = Segs[CS].Selector, oldSs = Segs[SS].Selector;
        ulong oldEsp = Regs[RSP];
        int size = is32 ? 4 : 2;

        if (newCpl < Cpl)
        {
            // Inner stack from the 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n.
            ulong tssSlot = Tr.Base + 4 + (ulong)newCpl * 8;
            if (tssSlot + 5 > Tr.Base + Tr.Limit) throw new CpuFault(ExceptionVector.TS, (uint)(Tr.Selector & ~3), true);
            uint newEsp = (uint)ReadSystem(tssSlot, 4);
            ushort newSs = (ushort)ReadSystem(tssSlot + 4, 2);
            int savedCpl = Cpl;
            SetCpl(newCpl);
            try
            {
                LoadSegment(SS, newSs);
            }
            catch (CpuFault)
            {
                SetCpl(savedCpl);
                throw new CpuFault(ExceptionVector.TS, (uint)(newSs & ~3), true);
            }
            Regs[RSP] = newEsp;
            PushSized(oldSs, size);
            PushSized(oldEsp, size);
        }
        PushSized(flags, size);
        PushSized(oldCs, size);
        PushSized(returnIp, size);
        if (hasErrorCode) PushSized(errorCode, size);

        Segs[CS] = target with { Selector = (ushort)((selector & ~3) | newCpl), Type = (byte)(target.Type | 1) };
        SetCpl(newCpl);
        OnModeChanged();
        Rip = offset;
        FlagsOther &= ~(RflagsBits.TF | RflagsBits.NT | RflagsBits.RF | RflagsBits.VM);
        if ((type & 1) == 0) FlagsOther &= ~RflagsBits.IF;
    }

    private void DeliverLong(byte vector, uint errorCode, bool hasErrorCode, bool software, ulong returnIp, ulong flags)
    {
        ulong entry = (ulong)vector * 16;
        if (entry + 15 > Idtr.Limit) throw new CpuFault(ExceptionVector.GP, GateError(vector, software), true);
        ulong lo = ReadSystem64(Idtr.Base + entry);
        ulong hi = ReadSystem64(Idtr.Base + entry + 8);
        int type = (int)((lo >> 40) & 0x1F);
        int gateDpl = (int)((lo >> 45) & 3);
        if (type is not (0xE or 0xF)) throw new CpuFault(ExceptionVector.GP, GateError(vector, software), true);
        if (software && gateDpl < Cpl) throw new CpuFault(ExceptionVector.GP, GateError(vector, software), true);
        if ((lo & (1UL << 47)) == 0) throw new CpuFault(ExceptionVector.NP, GateError(vector, software), true);
        ushort selector = (ushort)(lo >> 16);
        ulong offset = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF_0000) | (hi << 32);
        int ist = (int)((lo >> 32) & 7);

        if ((selector & ~3) == 0) throw new CpuFault(ExceptionVector.GP, 0, true);
        var target = DecodeDescriptor(selector, ReadDescriptor(selector, out _));
        if (!target.CodeOrData || (target.Type & 8) == 0 || !target.Long || target.DefaultBig || target.Dpl > Cpl)
            throw new CpuFault(ExceptionVector.GP, (uint)(selector & ~3), true);
        if (!target.Present) throw new CpuFault(ExceptionVector.NP, (uint)(selector & ~3), true);

        bool conforming = (target.Type & 4) != 0;
        int newCpl = conforming ? Cpl : target.Dpl;
        ushort oldCs = Segs[CS].Selector, oldSs = Segs[SS].Selector;
        ulong oldRsp = Regs[RSP];
        ulong rsp = oldRsp;
        if (ist != 0)
            rsp = ReadTss64(0x24 + (ist - 1) * 8);
        else if (newCpl < Cpl)
            rsp = ReadTss64(4 + newCpl * 8);
        rsp &= ~0xFUL;

        // Write the frame before changing any state, so a fault here leaves the old context intact.
        int savedCpl = Cpl;
        if (newCpl != Cpl) SetCpl(newCpl);
        try
        {
            ulong frame = rsp - (hasErrorCode ? 48UL : 40UL);
            if (!IsCanonical(frame) || !IsCanonical(rsp - 1)) throw new CpuFault(ExceptionVector.SS, 0, true);
            Write64(rsp - 8, oldSs);
            Write64(rsp - 16, oldRsp);
            Write64(rsp - 24, flags);
            Write64(rsp - 32, oldCs);
            Write64(rsp - 40, returnIp);
            if (hasErrorCode) Write64(rsp - 48, errorCode);
            rsp = frame;
        }
        catch
        {
            SetCpl(savedCpl);
            throw;
        }
        WriteEvent = 0;

        if (newCpl != savedCpl)
            Segs[SS] = SegmentRegister.Null with { Selector = (ushort)newCpl, Dpl = (byte)newCpl };
        Segs[CS] = target with { Selector = (ushort)((selector & ~3) | newCpl), Type = (byte)(target.Type | 1) };
        OnModeChanged();
        Regs[RSP] = rsp;
        Rip = offset;
        FlagsOther &= ~(RflagsBits.TF | RflagsBits.NT | RflagsBits.RF | RflagsBits.VM);
        if ((type & 1) == 0) FlagsOther &= ~RflagsBits.IF;
    }

    private ulong ReadTss64(int offset)
    {
        if ((ulong)offset + 7 > Tr.Limit) throw new CpuFault(ExceptionVector.TS, (uint)(Tr.Selector & ~3), true);
        return ReadSystem64(Tr.Base + (ulong)offset);
    }
}
