using Actors.HwBackend.Snapshots;

namespace Actors.HwBackend.Abstractions;

/// <summary>
/// The full architectural state of one virtual processor: what <c>GetState</c>/<c>SetState</c>
/// exchange and what live migration moves, as one section of the machine's snapshot.
/// </summary>
public sealed class VpState : ISnapshotSection<VpState>
{
    public const int FxsaveAreaSize = 512;
    public const int GprCount = 16;
    public const int DebugRegisterCount = 6;

    /// <summary>
    /// Version 2 added <see cref="TscAdjust"/> at the end, version 3 <see cref="NmiPending"/> and
    /// <see cref="NmiBlocked"/> after it, version 4 <see cref="PendingDebugExceptions"/> after those,
    /// version 5 <see cref="SpecCtrl"/> last.
    /// </summary>
    public static ushort SnapshotVersion => 5;

    /// <summary>RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 in encoding order.</summary>
    public ulong[] Gprs { get; set; } = new ulong[GprCount];

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

    /// <summary>IA32_TSC_ADJUST (MSR 0x3B).</summary>
    public long TscAdjust { get; set; }

    /// <summary>x87, MMX and SSE state in the FXSAVE layout (Intel SDM vol. 1, table 10-2).</summary>
    public byte[] FxsaveArea { get; set; } = NewFxsaveArea();

    /// <summary>The processor is in HLT and waits for an interrupt.</summary>
    public bool Halted { get; set; }

    /// <summary>Interrupts are blocked for one instruction after STI or MOV SS.</summary>
    public bool InterruptShadow { get; set; }

    /// <summary>An external interrupt accepted but not yet delivered, or -1.</summary>
    public int PendingInterrupt { get; set; } = -1;

    /// <summary>An NMI arrived and is latched, not yet delivered (at most one is held).</summary>
    public bool NmiPending { get; set; }

    /// <summary>An NMI was delivered and its handler's IRET has not run: NMIs wait (Intel SDM vol. 3, 6.7.1).</summary>
    public bool NmiBlocked { get; set; }

    /// <summary>
    /// A #DB trap owed by the last instruction and not yet delivered, as the DR6 bits it will set
    /// (B0-B3, BS), or 0. It exists between an instruction that ended with an exit (port or MMIO
    /// I/O) and the next instruction boundary.
    /// </summary>
    public ulong PendingDebugExceptions { get; set; }

    /// <summary>IA32_SPEC_CTRL (MSR 0x48): the speculation controls the guest turned on.</summary>
    public ulong SpecCtrl { get; set; }

    /// <summary>RIP, RFLAGS and the GPRs, as <see cref="IVirtualProcessor.GetGeneralRegisters"/> exchanges them.</summary>
    public GeneralRegisters GetGeneralRegisters()
    {
        var registers = new GeneralRegisters { Rip = Rip, Rflags = Rflags };
        for (int i = 0; i < GprCount; i++)
            registers.Gprs[i] = Gprs[i];
        return registers;
    }

    public void SetGeneralRegisters(in GeneralRegisters registers)
    {
        Rip = registers.Rip;
        Rflags = registers.Rflags;
        for (int i = 0; i < GprCount; i++)
            Gprs[i] = registers.Gprs[i];
    }

    /// <summary>Segments, descriptor tables, control registers, EFER and the APIC base, as <see cref="IVirtualProcessor.GetSystemRegisters"/> exchanges them.</summary>
    public SystemRegisters GetSystemRegisters() => new()
    {
        Es = Es,
        Cs = Cs,
        Ss = Ss,
        Ds = Ds,
        Fs = Fs,
        Gs = Gs,
        Ldtr = Ldtr,
        Tr = Tr,
        Gdtr = Gdtr,
        Idtr = Idtr,
        Cr0 = Cr0,
        Cr2 = Cr2,
        Cr3 = Cr3,
        Cr4 = Cr4,
        Cr8 = Cr8,
        Efer = Efer,
        ApicBase = ApicBase,
    };

    public void SetSystemRegisters(in SystemRegisters registers)
    {
        Es = registers.Es;
        Cs = registers.Cs;
        Ss = registers.Ss;
        Ds = registers.Ds;
        Fs = registers.Fs;
        Gs = registers.Gs;
        Ldtr = registers.Ldtr;
        Tr = registers.Tr;
        Gdtr = registers.Gdtr;
        Idtr = registers.Idtr;
        Cr0 = registers.Cr0;
        Cr2 = registers.Cr2;
        Cr3 = registers.Cr3;
        Cr4 = registers.Cr4;
        Cr8 = registers.Cr8;
        Efer = registers.Efer;
        ApicBase = registers.ApicBase;
    }

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

    /// <summary>Why no processor can take this state, or null: arrays of the wrong size, an interrupt vector out of range.</summary>
    public string? FindProblem()
    {
        if (Gprs is not { Length: GprCount })
            return $"{nameof(Gprs)} must hold {GprCount} registers";
        if (DebugRegisters is not { Length: DebugRegisterCount })
            return $"{nameof(DebugRegisters)} must hold {DebugRegisterCount} registers";
        if (FxsaveArea is not { Length: FxsaveAreaSize })
            return $"{nameof(FxsaveArea)} must be {FxsaveAreaSize} bytes";
        if (PendingInterrupt is < -1 or > byte.MaxValue)
            return $"pending interrupt {PendingInterrupt} is not a vector (0..255) nor -1 for none";
        return null;
    }

    public void Write(SnapshotSectionWriter writer)
    {
        writer.WriteUInt64s(Gprs, GprCount);
        writer.WriteUInt64(Rip);
        writer.WriteUInt64(Rflags);
        Es.Write(writer);
        Cs.Write(writer);
        Ss.Write(writer);
        Ds.Write(writer);
        Fs.Write(writer);
        Gs.Write(writer);
        Ldtr.Write(writer);
        Tr.Write(writer);
        Gdtr.Write(writer);
        Idtr.Write(writer);
        writer.WriteUInt64(Cr0);
        writer.WriteUInt64(Cr2);
        writer.WriteUInt64(Cr3);
        writer.WriteUInt64(Cr4);
        writer.WriteUInt64(Cr8);
        writer.WriteUInt64s(DebugRegisters, DebugRegisterCount);
        writer.WriteUInt64(Efer);
        writer.WriteUInt64(Star);
        writer.WriteUInt64(Lstar);
        writer.WriteUInt64(Cstar);
        writer.WriteUInt64(Sfmask);
        writer.WriteUInt64(KernelGsBase);
        writer.WriteUInt64(SysenterCs);
        writer.WriteUInt64(SysenterEsp);
        writer.WriteUInt64(SysenterEip);
        writer.WriteUInt64(Pat);
        writer.WriteUInt64(Tsc);
        writer.WriteUInt64(TscAux);
        writer.WriteUInt64(ApicBase);
        writer.WriteUInt64(MiscEnable);
        writer.WriteBytes(FxsaveArea, FxsaveAreaSize);
        writer.WriteBoolean(Halted);
        writer.WriteBoolean(InterruptShadow);
        writer.WriteInt32(PendingInterrupt);
        writer.WriteInt64(TscAdjust);
        writer.WriteBoolean(NmiPending);
        writer.WriteBoolean(NmiBlocked);
        writer.WriteUInt64(PendingDebugExceptions);
        writer.WriteUInt64(SpecCtrl);
    }

    public static VpState Read(ref SnapshotSectionReader reader, ushort version) => new()
    {
        Gprs = reader.ReadUInt64s(GprCount),
        Rip = reader.ReadUInt64(),
        Rflags = reader.ReadUInt64(),
        Es = SegmentRegister.Read(ref reader),
        Cs = SegmentRegister.Read(ref reader),
        Ss = SegmentRegister.Read(ref reader),
        Ds = SegmentRegister.Read(ref reader),
        Fs = SegmentRegister.Read(ref reader),
        Gs = SegmentRegister.Read(ref reader),
        Ldtr = SegmentRegister.Read(ref reader),
        Tr = SegmentRegister.Read(ref reader),
        Gdtr = DescriptorTableRegister.Read(ref reader),
        Idtr = DescriptorTableRegister.Read(ref reader),
        Cr0 = reader.ReadUInt64(),
        Cr2 = reader.ReadUInt64(),
        Cr3 = reader.ReadUInt64(),
        Cr4 = reader.ReadUInt64(),
        Cr8 = reader.ReadUInt64(),
        DebugRegisters = reader.ReadUInt64s(DebugRegisterCount),
        Efer = reader.ReadUInt64(),
        Star = reader.ReadUInt64(),
        Lstar = reader.ReadUInt64(),
        Cstar = reader.ReadUInt64(),
        Sfmask = reader.ReadUInt64(),
        KernelGsBase = reader.ReadUInt64(),
        SysenterCs = reader.ReadUInt64(),
        SysenterEsp = reader.ReadUInt64(),
        SysenterEip = reader.ReadUInt64(),
        Pat = reader.ReadUInt64(),
        Tsc = reader.ReadUInt64(),
        TscAux = reader.ReadUInt64(),
        ApicBase = reader.ReadUInt64(),
        MiscEnable = reader.ReadUInt64(),
        FxsaveArea = reader.ReadBytes(FxsaveAreaSize),
        Halted = reader.ReadBoolean(),
        InterruptShadow = reader.ReadBoolean(),
        PendingInterrupt = reader.ReadInt32(),
        TscAdjust = version >= 2 ? reader.ReadInt64() : 0,
        NmiPending = version >= 3 && reader.ReadBoolean(),
        NmiBlocked = version >= 3 && reader.ReadBoolean(),
        PendingDebugExceptions = version >= 4 ? reader.ReadUInt64() : 0,
        SpecCtrl = version >= 5 ? reader.ReadUInt64() : 0,
    };

    public VpState Clone()
    {
        var copy = (VpState)MemberwiseClone();
        copy.Gprs = (ulong[])Gprs.Clone();
        copy.DebugRegisters = (ulong[])DebugRegisters.Clone();
        copy.FxsaveArea = (byte[])FxsaveArea.Clone();
        return copy;
    }
}
