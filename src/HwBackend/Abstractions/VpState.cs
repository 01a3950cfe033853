namespace Actors.HwBackend.Abstractions;

/// <summary>
/// The full architectural state of one virtual processor: what <c>GetState</c>/<c>SetState</c>
/// exchange and what live migration moves. Plain data, so any serializer can carry it.
/// </summary>
public sealed class VpState
{
    public const int FxsaveAreaSize = 512;

    /// <summary>RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 in encoding order.</summary>
    public ulong[] Gprs { get; set; } = new ulong[16];

    public ulong Rip { get; set; }

    public ulong Rflags { get; set; } = 0x2;

    public SegmentRegister Es { get; set; }
    public SegmentRegister Cs { get; set; }
    public SegmentRegister Ss { get; set; }
    public SegmentRegister Ds { get; set; }
    public SegmentRegister Fs { get; set; }
    public SegmentRegister Gs { get; set; }
    public SegmentRegister Ldtr { get; set; }
    public SegmentRegister Tr { get; set; }

    public DescriptorTableRegister Gdtr { get; set; }
    public DescriptorTableRegister Idtr { get; set; }

    public ulong Cr0 { get; set; } = 0x6000_0010;
    public ulong Cr2 { get; set; }
    public ulong Cr3 { get; set; }
    public ulong Cr4 { get; set; }
    public ulong Cr8 { get; set; }

    public ulong[] DebugRegisters { get; set; } = [0, 0, 0, 0, 0xFFFF0FF0, 0x400];

    public ulong Efer { get; set; }
    public ulong Star { get; set; }
    public ulong Lstar { get; set; }
    public ulong Cstar { get; set; }
    public ulong Sfmask { get; set; }
    public ulong KernelGsBase { get; set; }
    public ulong SysenterCs { get; set; }
    public ulong SysenterEsp { get; set; }
    public ulong SysenterEip { get; set; }
    public ulong Pat { get; set; } = 0x0007_0406_0007_0406;
    public ulong Tsc { get; set; }
    public ulong TscAux { get; set; }
    public ulong ApicBase { get; set; } = 0xFEE0_0900;
    public ulong MiscEnable { get; set; } = 1;

    /// <summary>x87, MMX and SSE state in the FXSAVE layout (Intel SDM vol. 1, table 10-2).</summary>
    public byte[] FxsaveArea { get; set; } = NewFxsaveArea();

    /// <summary>The processor is in HLT and waits for an interrupt.</summary>
    public bool Halted { get; set; }

    /// <summary>Interrupts are blocked for one instruction after STI or MOV SS.</summary>
    public bool InterruptShadow { get; set; }

    /// <summary>An external interrupt accepted but not yet delivered, or -1.</summary>
    public int PendingInterrupt { get; set; } = -1;

    public static byte[] NewFxsaveArea()
    {
        var area = new byte[FxsaveAreaSize];
        area[0] = 0x7F; // FCW = 0x037F after FNINIT
        area[1] = 0x03;
        area[24] = 0x80; // MXCSR = 0x1F80
        area[25] = 0x1F;
        area[28] = 0xFF; // MXCSR_MASK = 0xFFFF (all bits we implement)
        area[29] = 0xFF;
        return area;
    }

    public VpState Clone()
    {
        var copy = (VpState)MemberwiseClone();
        copy.Gprs = (ulong[])Gprs.Clone();
        copy.DebugRegisters = (ulong[])DebugRegisters.Clone();
        copy.FxsaveArea = (byte[])FxsaveArea.Clone();
        return copy;
    }
}
