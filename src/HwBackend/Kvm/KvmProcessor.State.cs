using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Kvm.Interop;

namespace Actors.HwBackend.Kvm;

/// <summary>
/// The vCPU's state through KVM's register groups. A whole-state restore goes in the order real VMMs use:
/// CPUID was set at creation, then SREGS (mode, EFER), REGS, FPU, MSRs, debug registers, and the vCPU events
/// last, because setting REGS clears a pending exception. The local APIC's state is the controller's, not KVM's.
/// </summary>
public sealed unsafe partial class KvmProcessor
{
    private const uint MsrTsc = 0x10, MsrTscAdjust = 0x3B, MsrSysenterCs = 0x174, MsrSysenterEsp = 0x175, MsrSysenterEip = 0x176,
        MsrMiscEnable = 0x1A0, MsrPat = 0x277, MsrStar = 0xC000_0081, MsrLstar = 0xC000_0082, MsrCstar = 0xC000_0083,
        MsrSfmask = 0xC000_0084, MsrKernelGsBase = 0xC000_0102, MsrTscAux = 0xC000_0103;

    // The MSRs of VpState, in one KVM_GET/SET_MSRS each way.
    private static readonly uint[] StateMsrs =
    [
        MsrStar, MsrLstar, MsrCstar, MsrSfmask, MsrKernelGsBase, MsrSysenterCs, MsrSysenterEsp, MsrSysenterEip,
        MsrPat, MsrTscAux, MsrMiscEnable, MsrTscAdjust, MsrTsc,
    ];

    // XSTATE_BV bits: the components whose state is in the image rather than in their initial configuration.
    private const ulong XstateX87 = 1, XstateSse = 2;

    /// <summary>This host's TSC rate, which the guest's TSC runs at (no TSC scaling is asked for).</summary>
    internal long TscHz => _tscHz != 0 ? _tscHz : _tscHz = 1000L * KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetTscKhz, 0), "KVM_GET_TSC_KHZ");

    private long _tscHz;

    public GeneralRegisters GetGeneralRegisters()
    {
        KvmRegs k;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetRegs, &k), "KVM_GET_REGS");
        var r = new GeneralRegisters { Rip = k.Rip, Rflags = k.Rflags };
        r.Gprs[0] = k.Rax; r.Gprs[1] = k.Rcx; r.Gprs[2] = k.Rdx; r.Gprs[3] = k.Rbx;
        r.Gprs[4] = k.Rsp; r.Gprs[5] = k.Rbp; r.Gprs[6] = k.Rsi; r.Gprs[7] = k.Rdi;
        r.Gprs[8] = k.R8; r.Gprs[9] = k.R9; r.Gprs[10] = k.R10; r.Gprs[11] = k.R11;
        r.Gprs[12] = k.R12; r.Gprs[13] = k.R13; r.Gprs[14] = k.R14; r.Gprs[15] = k.R15;
        return r;
    }

    public void SetGeneralRegisters(in GeneralRegisters registers)
    {
        var k = new KvmRegs
        {
            Rax = registers.Gprs[0],
            Rcx = registers.Gprs[1],
            Rdx = registers.Gprs[2],
            Rbx = registers.Gprs[3],
            Rsp = registers.Gprs[4],
            Rbp = registers.Gprs[5],
            Rsi = registers.Gprs[6],
            Rdi = registers.Gprs[7],
            R8 = registers.Gprs[8],
            R9 = registers.Gprs[9],
            R10 = registers.Gprs[10],
            R11 = registers.Gprs[11],
            R12 = registers.Gprs[12],
            R13 = registers.Gprs[13],
            R14 = registers.Gprs[14],
            R15 = registers.Gprs[15],
            Rip = registers.Rip,
            Rflags = registers.Rflags | 0x2,
        };
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.SetRegs, &k), "KVM_SET_REGS");
    }

    public SystemRegisters GetSystemRegisters()
    {
        KvmSregs s;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetSregs, &s), "KVM_GET_SREGS");
        return new SystemRegisters
        {
            Es = FromKvm(s.Es),
            Cs = FromKvm(s.Cs),
            Ss = FromKvm(s.Ss),
            Ds = FromKvm(s.Ds),
            Fs = FromKvm(s.Fs),
            Gs = FromKvm(s.Gs),
            Ldtr = FromKvm(s.Ldt),
            Tr = FromKvm(s.Tr),
            Gdtr = new DescriptorTableRegister(s.Gdt.Base, s.Gdt.Limit),
            Idtr = new DescriptorTableRegister(s.Idt.Base, s.Idt.Limit),
            Cr0 = s.Cr0,
            Cr2 = s.Cr2,
            Cr3 = s.Cr3,
            Cr4 = s.Cr4,
            Cr8 = _apic is { } apic ? (ulong)apic.TaskPriorityClass : s.Cr8,
            Efer = s.Efer,
            ApicBase = _apic?.ApicBaseMsr ?? s.ApicBase,
        };
    }

    public void SetSystemRegisters(in SystemRegisters registers)
    {
        KvmSregs s;
        // Read first: the interrupt bitmap (an accepted, undelivered interrupt) is not part of these registers.
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetSregs, &s), "KVM_GET_SREGS");
        ApplySystemRegisters(ref s, registers);
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.SetSregs, &s), "KVM_SET_SREGS");
    }

    /// <summary>The XSAVE image's legacy region, which is the FXSAVE layout byte for byte.</summary>
    public void GetFpuState(Span<byte> fxsave)
    {
        CheckFxsaveSize(fxsave.Length);
        KvmXsave xsave;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetXsave, &xsave), "KVM_GET_XSAVE");
        new ReadOnlySpan<byte>(xsave.Region, VpState.FxsaveAreaSize).CopyTo(fxsave);
    }

    /// <summary>
    /// Replaces the legacy region and marks x87 and SSE state present in the XSAVE header (otherwise the next
    /// restore would load their initial state instead); AVX and later components keep what they held.
    /// </summary>
    public void SetFpuState(ReadOnlySpan<byte> fxsave)
    {
        CheckFxsaveSize(fxsave.Length);
        KvmXsave xsave;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetXsave, &xsave), "KVM_GET_XSAVE");
        fxsave.CopyTo(new Span<byte>(xsave.Region, VpState.FxsaveAreaSize));
        *(ulong*)(xsave.Region + KvmXsave.HeaderOffset) |= XstateX87 | XstateSse;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.SetXsave, &xsave), "KVM_SET_XSAVE");
    }

    /// <summary>The guest's TSC minus the machine's clock in TSC ticks; setting it writes IA32_TSC, from which KVM keeps its own offset.</summary>
    public long TscOffset
    {
        get
        {
            TryGetMsr(MsrTsc, out ulong tsc);
            return (long)tsc - ClockTicks();
        }
        set => TrySetMsr(MsrTsc, (ulong)(ClockTicks() + value));
    }

    public bool TryGetMsr(uint index, out ulong value)
    {
        if (IsRouted(index))
            return TryReadRoutedMsr(index, out value);
        Span<ulong> values = stackalloc ulong[1];
        bool read = AccessMsrs([index], values, write: false) == 1;
        value = values[0];
        return read;
    }

    public bool TrySetMsr(uint index, ulong value)
    {
        if (IsRouted(index))
            return TryWriteRoutedMsr(index, value);
        Span<ulong> values = [value];
        return AccessMsrs([index], values, write: true) == 1;
    }

    public VpState GetState()
    {
        GeneralRegisters general = GetGeneralRegisters();
        SystemRegisters system = GetSystemRegisters();
        KvmSregs sregs;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetSregs, &sregs), "KVM_GET_SREGS");
        KvmDebugRegs debug;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetDebugRegs, &debug), "KVM_GET_DEBUGREGS");
        KvmVcpuEvents events;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetVcpuEvents, &events), "KVM_GET_VCPU_EVENTS");
        Span<ulong> msrs = stackalloc ulong[StateMsrs.Length];
        if (AccessMsrs(StateMsrs, msrs, write: false) != StateMsrs.Length)
            throw new KvmException($"KVM_GET_MSRS on vCPU {Index} returned fewer MSRs than asked for");

        var state = new VpState
        {
            DebugRegisters = [debug.Db[0], debug.Db[1], debug.Db[2], debug.Db[3], debug.Dr6, debug.Dr7],
            Star = msrs[0],
            Lstar = msrs[1],
            Cstar = msrs[2],
            Sfmask = msrs[3],
            KernelGsBase = msrs[4],
            SysenterCs = msrs[5],
            SysenterEsp = msrs[6],
            SysenterEip = msrs[7],
            Pat = msrs[8],
            TscAux = msrs[9],
            MiscEnable = msrs[10],
            TscAdjust = (long)msrs[11],
            Tsc = msrs[12],
            Halted = _halted,
            InterruptShadow = events.InterruptShadow != 0,
            PendingInterrupt = PendingInterrupt(sregs, events),
            NmiPending = events.NmiPending != 0 || Volatile.Read(ref _nmiRequested) != 0,
            NmiBlocked = events.NmiMasked != 0,
        };
        state.SetGeneralRegisters(general);
        state.SetSystemRegisters(system);
        GetFpuState(state.FxsaveArea);
        return state;
    }

    public void SetState(VpState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.FindProblem() is string problem)
            throw new ArgumentException(problem, nameof(state));

        KvmSregs sregs = default;
        ApplySystemRegisters(ref sregs, state.GetSystemRegisters());
        // An accepted, undelivered interrupt goes back where KVM keeps it.
        if (state.PendingInterrupt >= 0)
            sregs.InterruptBitmap[state.PendingInterrupt / 64] |= 1UL << (state.PendingInterrupt % 64);
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.SetSregs, &sregs), "KVM_SET_SREGS");

        SetGeneralRegisters(state.GetGeneralRegisters());
        SetFpuState(state.FxsaveArea);

        Span<ulong> msrs =
        [
            state.Star, state.Lstar, state.Cstar, state.Sfmask, state.KernelGsBase, state.SysenterCs, state.SysenterEsp,
            state.SysenterEip, state.Pat, state.TscAux, state.MiscEnable, (ulong)state.TscAdjust, state.Tsc,
        ];
        if (AccessMsrs(StateMsrs, msrs, write: true) != StateMsrs.Length)
            throw new KvmException($"KVM_SET_MSRS on vCPU {Index} refused an MSR of the state");

        var debug = new KvmDebugRegs { Dr6 = state.DebugRegisters[4], Dr7 = state.DebugRegisters[5] };
        for (int i = 0; i < 4; i++)
            debug.Db[i] = state.DebugRegisters[i];
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.SetDebugRegs, &debug), "KVM_SET_DEBUGREGS");

        KvmVcpuEvents events;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.GetVcpuEvents, &events), "KVM_GET_VCPU_EVENTS");
        events.InterruptShadow = (byte)(state.InterruptShadow ? 1 : 0);
        events.NmiPending = (byte)(state.NmiPending ? 1 : 0);
        events.NmiMasked = (byte)(state.NmiBlocked ? 1 : 0);
        events.Flags = KvmVcpuEvents.ValidShadow | KvmVcpuEvents.ValidNmiPending;
        KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.SetVcpuEvents, &events), "KVM_SET_VCPU_EVENTS");

        Volatile.Write(ref _nmiRequested, 0);
        _halted = state.Halted;
        _ioItemsLeft = 0;
    }

    private void ApplySystemRegisters(ref KvmSregs s, in SystemRegisters r)
    {
        s.Es = ToKvm(r.Es); s.Cs = ToKvm(r.Cs); s.Ss = ToKvm(r.Ss); s.Ds = ToKvm(r.Ds);
        s.Fs = ToKvm(r.Fs); s.Gs = ToKvm(r.Gs); s.Ldt = ToKvm(r.Ldtr); s.Tr = ToKvm(r.Tr);
        s.Gdt = new KvmDtable { Base = r.Gdtr.Base, Limit = r.Gdtr.Limit };
        s.Idt = new KvmDtable { Base = r.Idtr.Base, Limit = r.Idtr.Limit };
        s.Cr0 = r.Cr0; s.Cr2 = r.Cr2; s.Cr3 = r.Cr3; s.Cr4 = r.Cr4; s.Cr8 = r.Cr8 & 0xF;
        s.Efer = r.Efer;
        s.ApicBase = r.ApicBase;
        if (_apic is { } apic)
            apic.TaskPriorityClass = (int)(r.Cr8 & 0xF);
    }

    /// <summary>KVM_GET_MSRS or KVM_SET_MSRS for <paramref name="indices"/>; returns how many it handled (it stops at the first it refuses).</summary>
    private int AccessMsrs(ReadOnlySpan<uint> indices, Span<ulong> values, bool write)
    {
        int bytes = 8 + (indices.Length * sizeof(KvmMsrEntry));
        byte* buffer = stackalloc byte[bytes];
        new Span<byte>(buffer, bytes).Clear();
        *(uint*)buffer = (uint)indices.Length;
        var entries = new Span<KvmMsrEntry>(buffer + 8, indices.Length);
        for (int i = 0; i < indices.Length; i++)
            entries[i] = new KvmMsrEntry { Index = indices[i], Data = write ? values[i] : 0 };
        int handled = KvmDevice.Checked(LibC.Ioctl(_fd, write ? KvmIoctls.SetMsrs : KvmIoctls.GetMsrs, buffer), write ? "KVM_SET_MSRS" : "KVM_GET_MSRS");
        if (!write)
        {
            for (int i = 0; i < handled; i++)
                values[i] = entries[i].Data;
        }

        return handled;
    }

    private static int PendingInterrupt(in KvmSregs sregs, in KvmVcpuEvents events)
    {
        if (events.InterruptInjected != 0 && events.InterruptSoft == 0)
            return events.InterruptNr;
        for (int word = 0; word < 4; word++)
        {
            ulong bits = sregs.InterruptBitmap[word];
            if (bits != 0)
                return (word * 64) + System.Numerics.BitOperations.TrailingZeroCount(bits);
        }

        return -1;
    }

    /// <summary>A TSC-deadline value on the platform clock: now, plus how far the guest's TSC is from it.</summary>
    private long DeadlineOnClock(ulong deadline)
    {
        TryGetMsr(MsrTsc, out ulong tsc);
        long ticks = (long)(deadline - tsc);
        return _machine.Clock.NowNanoseconds + (long)(ticks * (1e9 / TscHz));
    }

    private long ClockTicks() => (long)(_machine.Clock.NowNanoseconds * (TscHz / 1e9));

    /// <summary>KVM_SET_CPUID2, before the vCPU first runs (KVM refuses a different CPUID after that).</summary>
    private void SetCpuid(ISyntheticRegisters? synthetic = null)
    {
        KvmCpuidEntry2[] entries = KvmCpuid.For(_backend.SupportedCpuid, Index, synthetic);
        int bytes = 8 + (entries.Length * sizeof(KvmCpuidEntry2));
        byte[] buffer = new byte[bytes];
        fixed (byte* p = buffer)
        {
            *(uint*)p = (uint)entries.Length;
            entries.CopyTo(new Span<KvmCpuidEntry2>(p + 8, entries.Length));
            KvmDevice.Checked(LibC.Ioctl(_fd, KvmIoctls.SetCpuid2, p), "KVM_SET_CPUID2");
        }
    }

    private static SegmentRegister FromKvm(in KvmSegment s) => new(
        s.Selector, s.Base, s.Limit, s.Type, s.Present != 0, s.Dpl, s.Db != 0, s.S != 0, s.L != 0, s.G != 0, s.Avl != 0, s.Unusable != 0);

    private static KvmSegment ToKvm(in SegmentRegister s) => new()
    {
        Selector = s.Selector,
        Base = s.Base,
        Limit = s.Limit,
        Type = s.Type,
        Present = (byte)(s.Present ? 1 : 0),
        Dpl = s.Dpl,
        Db = (byte)(s.DefaultBig ? 1 : 0),
        S = (byte)(s.CodeOrData ? 1 : 0),
        L = (byte)(s.Long ? 1 : 0),
        G = (byte)(s.Granularity ? 1 : 0),
        Avl = (byte)(s.Available ? 1 : 0),
        Unusable = (byte)(s.Unusable ? 1 : 0),
    };

    private static void CheckFxsaveSize(int length)
    {
        if (length != VpState.FxsaveAreaSize)
            throw new ArgumentException($"an FXSAVE area is {VpState.FxsaveAreaSize} bytes, not {length}");
    }
}
