using System.Runtime.InteropServices;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// The software x86-64 processor: architectural state plus the caches that make it fast (decoded
/// blocks, software TLB). Split into partial files by concern: flags, memory, paging, segments,
/// exceptions, execution. Hot state lives in native memory so handlers index it without bounds checks.
/// </summary>
internal sealed unsafe partial class Cpu : IDisposable
{
    /// <summary>Index of the always-zero register slot used for absent base/index registers.</summary>
    public const int ZeroReg = 16;

    public const int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

    public const int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

    private readonly void* _native;

    /// <summary>RAX..R15, then the zero slot.</summary>
    public readonly ulong* Regs;

    /// <summary>Effective segment bases used in address arithmetic: ES/CS/SS/DS read as 0 in 64-bit mode.</summary>
    public readonly ulong* SegBase;

    /// <summary>XMM0..XMM15, 16 bytes each.</summary>
    public readonly ulong* Xmm;

    public ulong Rip;

    public readonly SegmentRegister[] Segs = new SegmentRegister[6];
    public SegmentRegister Ldtr;
    public SegmentRegister Tr;
    public DescriptorTableRegister Gdtr;
    public DescriptorTableRegister Idtr;

    public ulong Cr0, Cr2, Cr3, Cr4, Cr8;
    public readonly ulong[] Dr = [0, 0, 0, 0, 0xFFFF0FF0, 0x400];
    public ulong Efer;
    public ulong Star, Lstar, Cstar, Sfmask, KernelGsBase;
    public ulong SysenterCs, SysenterEsp, SysenterEip;
    public ulong Pat, TscAux, ApicBase, MiscEnable;

    /// <summary>Guest TSC = host ticks scaled + offset; offset set by WRMSR and state restore.</summary>
    public long TscOffset;

    /// <summary>IA32_TSC_ADJUST: what guest writes to the TSC have added to it.</summary>
    public long TscAdjust;

    /// <summary>IA32_SPEC_CTRL as the guest wrote it (see <see cref="SpecCtrlBits"/>).</summary>
    public ulong SpecCtrl;

    public uint Mxcsr = 0x1F80;

    /// <summary>x87/MMX state kept as the raw FXSAVE image: we run no x87 arithmetic, only save/restore and control words.</summary>
    public readonly byte[] FpuImage = VpState.NewFxsaveArea();

    /// <summary>Current privilege level (CS.RPL/DPL).</summary>
    public int Cpl;

    /// <summary>Decoder bitness of the current code segment: 16, 32 or 64.</summary>
    public int Bitness = 16;

    /// <summary>All-ones in 64-bit mode, 0xFFFFFFFF otherwise: linear addresses wrap at 4 GiB outside long mode.</summary>
    public ulong LinearMask = 0xFFFF_FFFF;

    public bool Halted;

    public ulong InstructionsRetired;

    public Cpu(EmulatedMachine machine, int index)
    {
        Machine = machine;
        Index = index;
        _translator = machine.Translator;
        Memory = machine.Memory;
        Clock = machine.Clock;
        const int regBytes = 17 * 8, segBytes = 6 * 8, xmmBytes = 16 * 16;
        _native = NativeMemory.AlignedAlloc(regBytes + segBytes + xmmBytes + TlbSetBytes, 64);
        NativeMemory.Clear(_native, regBytes + segBytes + xmmBytes + TlbSetBytes);
        Xmm = (ulong*)_native;
        Regs = (ulong*)((byte*)_native + xmmBytes);
        SegBase = (ulong*)((byte*)_native + xmmBytes + regBytes);
        InitTlb((byte*)_native + xmmBytes + regBytes + segBytes);
        Reset();
    }

    public EmulatedMachine Machine { get; }

    public int Index { get; }

    public GuestPhysicalMap Memory { get; }

    public IPlatformClock Clock { get; }

    public bool LongMode => (Efer & EferBits.LMA) != 0;

    public bool ProtectedMode => (Cr0 & Cr0Bits.PE) != 0;

    public bool PagingEnabled => (Cr0 & Cr0Bits.PG) != 0;

    /// <summary>Virtual-8086 mode is not supported; RFLAGS.VM stays clear.</summary>
    public bool RealMode => !ProtectedMode;

    /// <summary>Power-on state (Intel SDM vol. 3, table 9-1), with CS:IP at the reset vector.</summary>
    public void Reset()
    {
        for (int i = 0; i <= ZeroReg; i++) Regs[i] = 0;
        for (int i = 0; i < 32; i++) Xmm[i] = 0;
        Rip = 0xFFF0;
        SetRflags(0x2);
        for (int s = 0; s < 6; s++) Segs[s] = SegmentRegister.RealMode(0);
        Segs[CS] = SegmentRegister.RealMode(0xF000, code: true) with { Base = 0xFFFF_0000 };
        Ldtr = new SegmentRegister(0, 0, 0xFFFF, 2, true, 0, false, false, false, false, false, false);
        Tr = new SegmentRegister(0, 0, 0xFFFF, 11, true, 0, false, false, false, false, false, false);
        Gdtr = new DescriptorTableRegister(0, 0xFFFF);
        Idtr = new DescriptorTableRegister(0, 0xFFFF);
        Cr0 = 0x6000_0010;
        Cr2 = Cr3 = Cr4 = Cr8 = 0;
        Efer = 0;
        Pat = 0x0007_0406_0007_0406;
        ApicBase = 0xFEE0_0000 | 0x800 | (Index == 0 ? 0x100UL : 0);
        MiscEnable = 1;
        SpecCtrl = 0;
        Mxcsr = 0x1F80;
        VpState.NewFxsaveArea().CopyTo(FpuImage, 0);
        Array.Clear(Dr, 0, 4);
        Dr[4] = Dr6Fixed;
        Dr[5] = Dr7Fixed;
        PendingDebugTrap = 0;
        UpdateBreakpoints();
        Halted = false;
        NmiPending = false;
        NmiBlocked = false;
        OnModeChanged();
    }

    public void Dispose() => NativeMemory.AlignedFree(_native);
}
