using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>The backend-contract face of one software vCPU: state in the portable register groups and <see cref="VpState"/>.</summary>
public sealed class EmulatedProcessor : IVirtualProcessor
{
    internal EmulatedProcessor(Cpu cpu) => Cpu = cpu;

    internal Cpu Cpu { get; }

    public int Index => Cpu.Index;

    public ulong InstructionsRetired => Cpu.InstructionsRetired;

    // The delivery paths count these already; reading them costs the interpreter nothing.
    public ulong EventsDelivered => Cpu.ExceptionsDelivered + Cpu.InterruptsDelivered;

    /// <summary>Instructions this CPU decoded but does not implement (each raised #UD in the guest).</summary>

    public ulong UnmappedReads => Cpu.UnmappedReads;

    public ulong UnmappedWrites => Cpu.UnmappedWrites;

    public VpExit Run() => Cpu.Run();

    public void CompletePortIn(ulong value) => Cpu.CompletePortIn(value);

    public void CompleteMmioRead(ulong value) => Cpu.CompleteMmioRead(value);

    public void RequestStop() => Interlocked.Or(ref Cpu.Events, Cpu.EventStop);

    public void InjectExternalInterrupt(byte vector) => Cpu.InjectExternalInterrupt(vector);

    public bool InjectNmi() => Cpu.InjectNmi();

    public void RequestInterruptWindow(bool enable) => Cpu.RequestInterruptWindow(enable);

    public void AttachInterruptController(ILocalInterruptController controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        Cpu.AttachInterruptController(controller);
    }

    public ILocalInterruptController? InterruptController => Cpu.Apic;

    public void AttachSyntheticRegisters(ISyntheticRegisters registers)
    {
        ArgumentNullException.ThrowIfNull(registers);
        Cpu.Synthetic = registers;
    }

    public void AttachUnimplementedSink(IUnimplementedSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        Cpu.Unimplemented = sink;
    }

    public void NotifyInterruptController() => Cpu.NotifyInterruptController();

    public unsafe GeneralRegisters GetGeneralRegisters()
    {
        var c = Cpu;
        var r = new GeneralRegisters { Rip = c.Rip, Rflags = c.GetRflags() };
        for (int i = 0; i < 16; i++) r.Gprs[i] = c.Regs[i];
        return r;
    }

    public unsafe void SetGeneralRegisters(in GeneralRegisters registers)
    {
        var c = Cpu;
        for (int i = 0; i < 16; i++) c.Regs[i] = registers.Gprs[i];
        c.Regs[Cpu.ZeroReg] = 0;
        c.Rip = registers.Rip;
        c.SetRflags(registers.Rflags);
        c.InterruptWindowMayOpen();
    }

    public unsafe SystemRegisters GetSystemRegisters()
    {
        var c = Cpu;
        return new SystemRegisters
        {
            Es = c.Segs[Cpu.ES],
            Cs = c.Segs[Cpu.CS],
            Ss = c.Segs[Cpu.SS],
            Ds = c.Segs[Cpu.DS],
            Fs = c.Segs[Cpu.FS],
            Gs = c.Segs[Cpu.GS],
            Ldtr = c.Ldtr,
            Tr = c.Tr,
            Gdtr = c.Gdtr,
            Idtr = c.Idtr,
            Cr0 = c.Cr0,
            Cr2 = c.Cr2,
            Cr3 = c.Cr3,
            Cr4 = c.Cr4,
            Cr8 = c.ReadCr(8),
            Efer = c.Efer,
            ApicBase = c.Apic?.ApicBaseMsr ?? c.ApicBase,
        };
    }

    public void SetSystemRegisters(in SystemRegisters registers)
    {
        ApplySystemRegisters(registers);
        // Everything decoded or translated under the old mode may be wrong under the new one.
        var c = Cpu;
        c.UpdateBreakpoints(); // CR4.DE decides what an R/W = 10 breakpoint is
        c.FlushTlb();
        c.OnModeChanged();
        c.ClearCodeCache();
    }

    public void GetFpuState(Span<byte> fxsave)
    {
        CheckFxsaveSize(fxsave.Length);
        FxsaveImage.Write(Cpu, fxsave);
    }

    public void SetFpuState(ReadOnlySpan<byte> fxsave)
    {
        CheckFxsaveSize(fxsave.Length);
        FxsaveImage.Restore(Cpu, fxsave);
    }

    public long TscOffset
    {
        get => Cpu.TscOffset;
        set => Cpu.TscOffset = value;
    }

    public bool TryGetMsr(uint index, out ulong value) => Cpu.TryReadMsr(index, out value);

    public bool TrySetMsr(uint index, ulong value) => Cpu.TryWriteMsr(index, value);

    public VpState GetState()
    {
        var c = Cpu;
        GeneralRegisters general = GetGeneralRegisters();
        SystemRegisters system = GetSystemRegisters();
        var s = new VpState
        {
            DebugRegisters = (ulong[])c.Dr.Clone(),
            Star = c.Star,
            Lstar = c.Lstar,
            Cstar = c.Cstar,
            Sfmask = c.Sfmask,
            KernelGsBase = c.KernelGsBase,
            SysenterCs = c.SysenterCs,
            SysenterEsp = c.SysenterEsp,
            SysenterEip = c.SysenterEip,
            Pat = c.Pat,
            Tsc = c.ReadTsc(),
            TscAdjust = c.TscAdjust,
            SpecCtrl = c.SpecCtrl,
            TscAux = c.TscAux,
            MiscEnable = c.MiscEnable,
            FxsaveArea = FxsaveImage.Capture(c),
            Halted = c.Halted,
            InterruptShadow = c.InterruptShadow,
            PendingInterrupt = c.PendingInterruptVector,
            NmiPending = c.NmiPending,
            NmiBlocked = c.NmiBlocked,
            PendingDebugExceptions = c.PendingDebugTrap,
        };
        s.SetGeneralRegisters(general);
        s.SetSystemRegisters(system);
        return s;
    }

    public void SetState(VpState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.FindProblem() is string problem)
            throw new ArgumentException(problem, nameof(state));
        var c = Cpu;
        ApplySystemRegisters(state.GetSystemRegisters());
        state.DebugRegisters.CopyTo(c.Dr, 0);
        c.Star = state.Star;
        c.Lstar = state.Lstar;
        c.Cstar = state.Cstar;
        c.Sfmask = state.Sfmask;
        c.KernelGsBase = state.KernelGsBase;
        c.SysenterCs = state.SysenterCs;
        c.SysenterEsp = state.SysenterEsp;
        c.SysenterEip = state.SysenterEip;
        c.Pat = state.Pat;
        c.RestoreTsc(state.Tsc);
        c.TscAdjust = state.TscAdjust;
        c.SpecCtrl = state.SpecCtrl & Cpu.SpecCtrlBits;
        c.TscAux = state.TscAux;
        c.MiscEnable = state.MiscEnable;
        FxsaveImage.Restore(c, state.FxsaveArea);
        c.Halted = state.Halted;
        c.InterruptShadow = state.InterruptShadow;
        c.SetPendingInterrupt(state.PendingInterrupt);
        c.NmiPending = state.NmiPending;
        c.NmiBlocked = state.NmiBlocked;
        c.PendingDebugTrap = state.PendingDebugExceptions;
        c.UpdateBreakpoints();
        c.FlushTlb();
        c.OnModeChanged();
        c.ClearCodeCache();
        SetGeneralRegisters(state.GetGeneralRegisters());
    }

    /// <summary>The system registers as state, not as guest writes: no #GP checks, unsupported bits dropped.</summary>
    private void ApplySystemRegisters(in SystemRegisters registers)
    {
        var c = Cpu;
        c.Segs[Cpu.ES] = registers.Es;
        c.Segs[Cpu.CS] = registers.Cs;
        c.Segs[Cpu.SS] = registers.Ss;
        c.Segs[Cpu.DS] = registers.Ds;
        c.Segs[Cpu.FS] = registers.Fs;
        c.Segs[Cpu.GS] = registers.Gs;
        c.Ldtr = registers.Ldtr;
        c.Tr = registers.Tr;
        c.Gdtr = registers.Gdtr;
        c.Idtr = registers.Idtr;
        c.Cr0 = registers.Cr0 | Cr0Bits.ET;
        c.Cr2 = registers.Cr2;
        c.Cr3 = registers.Cr3;
        c.Cr4 = registers.Cr4 & Cr4Bits.Supported;
        c.Cr8 = registers.Cr8 & 0xF;
        if (c.Apic is { } apic) apic.TaskPriorityClass = (int)c.Cr8;
        c.Efer = registers.Efer & EferBits.Supported;
        c.ApicBase = registers.ApicBase;
        c.SetCpl((c.Cr0 & Cr0Bits.PE) == 0 ? 0 : registers.Cs.Selector & 3);
    }

    private static void CheckFxsaveSize(int length)
    {
        if (length != VpState.FxsaveAreaSize)
            throw new ArgumentException($"an FXSAVE area is {VpState.FxsaveAreaSize} bytes, not {length}");
    }
}
