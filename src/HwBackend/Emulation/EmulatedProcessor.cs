using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>The backend-contract face of one software vCPU: state in the portable <see cref="VpState"/> form.</summary>
public sealed class EmulatedProcessor : IVirtualProcessor
{
    internal EmulatedProcessor(Cpu cpu) => Cpu = cpu;

    internal Cpu Cpu { get; }

    public int Index => Cpu.Index;

    public ulong InstructionsRetired => Cpu.InstructionsRetired;

    // The delivery paths count these already; reading them costs the interpreter nothing.
    public ulong EventsDelivered => Cpu.ExceptionsDelivered + Cpu.InterruptsDelivered;

    /// <summary>Instructions this CPU decoded but does not implement (each raised #UD in the guest).</summary>
    public ulong UnimplementedInstructions => Cpu.UnimplementedInstructions;

    public ulong UnmappedReads => Cpu.UnmappedReads;

    public ulong UnmappedWrites => Cpu.UnmappedWrites;

    public VpExit Run() => Cpu.Run();

    public void CompletePortIn(ulong value) => Cpu.CompletePortIn(value);

    public void CompleteMmioRead(ulong value) => Cpu.CompleteMmioRead(value);

    public void RequestStop() => Interlocked.Or(ref Cpu.Events, Cpu.EventStop);

    public void InjectExternalInterrupt(byte vector) => Cpu.InjectExternalInterrupt(vector);

    public void RequestInterruptWindow(bool enable) => Cpu.RequestInterruptWindow(enable);

    public void AttachInterruptController(ILocalInterruptController controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        Cpu.AttachInterruptController(controller);
    }

    public void NotifyInterruptController() => Cpu.NotifyInterruptController();

    public unsafe VpState GetState()
    {
        var c = Cpu;
        var s = new VpState();
        for (int i = 0; i < 16; i++) s.Gprs[i] = c.Regs[i];
        s.Rip = c.Rip;
        s.Rflags = c.GetRflags();
        s.Es = c.Segs[Cpu.ES];
        s.Cs = c.Segs[Cpu.CS];
        s.Ss = c.Segs[Cpu.SS];
        s.Ds = c.Segs[Cpu.DS];
        s.Fs = c.Segs[Cpu.FS];
        s.Gs = c.Segs[Cpu.GS];
        s.Ldtr = c.Ldtr;
        s.Tr = c.Tr;
        s.Gdtr = c.Gdtr;
        s.Idtr = c.Idtr;
        s.Cr0 = c.Cr0;
        s.Cr2 = c.Cr2;
        s.Cr3 = c.Cr3;
        s.Cr4 = c.Cr4;
        s.Cr8 = c.ReadCr(8);
        s.DebugRegisters = (ulong[])c.Dr.Clone();
        s.Efer = c.Efer;
        s.Star = c.Star;
        s.Lstar = c.Lstar;
        s.Cstar = c.Cstar;
        s.Sfmask = c.Sfmask;
        s.KernelGsBase = c.KernelGsBase;
        s.SysenterCs = c.SysenterCs;
        s.SysenterEsp = c.SysenterEsp;
        s.SysenterEip = c.SysenterEip;
        s.Pat = c.Pat;
        s.Tsc = c.ReadTsc();
        s.TscAux = c.TscAux;
        s.ApicBase = c.Apic?.ApicBaseMsr ?? c.ApicBase;
        s.MiscEnable = c.MiscEnable;
        s.FxsaveArea = FxsaveImage.Capture(c);
        s.Halted = c.Halted;
        s.InterruptShadow = c.InterruptShadow;
        s.PendingInterrupt = c.PendingInterruptVector;
        return s;
    }

    public unsafe void SetState(VpState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Gprs.Length != 16 || state.FxsaveArea.Length != VpState.FxsaveAreaSize || state.DebugRegisters.Length != 6)
            throw new ArgumentException("VpState arrays have the wrong length", nameof(state));
        var c = Cpu;
        for (int i = 0; i < 16; i++) c.Regs[i] = state.Gprs[i];
        c.Regs[Cpu.ZeroReg] = 0;
        c.Rip = state.Rip;
        c.SetRflags(state.Rflags);
        c.Segs[Cpu.ES] = state.Es;
        c.Segs[Cpu.CS] = state.Cs;
        c.Segs[Cpu.SS] = state.Ss;
        c.Segs[Cpu.DS] = state.Ds;
        c.Segs[Cpu.FS] = state.Fs;
        c.Segs[Cpu.GS] = state.Gs;
        c.Ldtr = state.Ldtr;
        c.Tr = state.Tr;
        c.Gdtr = state.Gdtr;
        c.Idtr = state.Idtr;
        c.Cr0 = state.Cr0 | Cr0Bits.ET;
        c.Cr2 = state.Cr2;
        c.Cr3 = state.Cr3;
        c.Cr4 = state.Cr4 & Cr4Bits.Supported;
        c.Cr8 = state.Cr8 & 0xF;
        if (c.Apic is { } apic) apic.TaskPriorityClass = (int)c.Cr8;
        state.DebugRegisters.CopyTo(c.Dr, 0);
        c.Efer = state.Efer & EferBits.Supported;
        c.Star = state.Star;
        c.Lstar = state.Lstar;
        c.Cstar = state.Cstar;
        c.Sfmask = state.Sfmask;
        c.KernelGsBase = state.KernelGsBase;
        c.SysenterCs = state.SysenterCs;
        c.SysenterEsp = state.SysenterEsp;
        c.SysenterEip = state.SysenterEip;
        c.Pat = state.Pat;
        c.WriteTsc(state.Tsc);
        c.TscAux = state.TscAux;
        c.ApicBase = state.ApicBase;
        c.MiscEnable = state.MiscEnable;
        FxsaveImage.Restore(c, state.FxsaveArea);
        c.Halted = state.Halted;
        c.InterruptShadow = state.InterruptShadow;
        c.SetPendingInterrupt(state.PendingInterrupt);
        c.Cpl = (c.Cr0 & Cr0Bits.PE) == 0 ? 0 : state.Cs.Selector & 3;
        c.FlushTlb();
        c.OnModeChanged();
        c.ClearCodeCache();
        c.InterruptWindowMayOpen();
    }
}
