using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// The x87 control instructions compiled freestanding code and kernels use around FPU state:
/// FNINIT, FNSTSW, FNSTCW, FLDCW, FNCLEX and FWAIT. There is no x87 arithmetic; the state
/// lives in <see cref="Cpu.FpuImage"/> in FXSAVE layout (FCW at 0, FSW at 2, abridged FTW at 4,
/// FOP at 6, FIP/FCS/FDP/FDS at 8..23).
/// </summary>
internal static unsafe class X87Handlers
{
    private const int FcwOffset = 0, FswOffset = 2;

    /// <summary>FSW: exception flags IE..PE and SF (bits 0..6), ES (7), B (15).</summary>
    private const ushort FswExceptions = 0x3F, FswEs = 0x80, FswBusy = 0x8000;

    /// <summary>FCW bits that hold what was loaded: bit 6 reads as 1 and bits 7, 13..15 as 0 (as measured on hardware).</summary>
    private const ushort FcwWritable = 0x1F3F, FcwReadsOne = 0x40;

    /// <summary>#NM when CR0.EM or CR0.TS: x87 instructions (and FXSAVE/FXRSTOR) trap to emulate or to lazily restore state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CheckFpu(Cpu c)
    {
        if ((c.Cr0 & (Cr0Bits.EM | Cr0Bits.TS)) != 0) throw new CpuFault(ExceptionVector.NM, 0, false);
    }

    private static ushort Fsw(Cpu c) => BinaryPrimitives.ReadUInt16LittleEndian(c.FpuImage.AsSpan(FswOffset));

    private static void SetFsw(Cpu c, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(c.FpuImage.AsSpan(FswOffset), v);

    /// <summary>FNINIT: FCW = 0x037F, FSW = 0, all registers empty, instruction and data pointers and opcode cleared.</summary>
    public static int Fninit(Cpu c, Op* op)
    {
        CheckFpu(c);
        var image = c.FpuImage.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(image[FcwOffset..], 0x037F);
        image[FswOffset..24].Clear();
        return Handler.Continue;
    }

    public static int FnstswM(Cpu c, Op* op)
    {
        CheckFpu(c);
        c.Write16(Handler.Ea(c, op), Fsw(c));
        return Handler.AfterWrite(c, op);
    }

    /// <summary>FNSTSW AX: only AX changes.</summary>
    public static int FnstswAx(Cpu c, Op* op)
    {
        CheckFpu(c);
        *(ushort*)(c.Regs + Cpu.RAX) = Fsw(c);
        return Handler.Continue;
    }

    public static int Fnstcw(Cpu c, Op* op)
    {
        CheckFpu(c);
        c.Write16(Handler.Ea(c, op), BinaryPrimitives.ReadUInt16LittleEndian(c.FpuImage.AsSpan(FcwOffset)));
        return Handler.AfterWrite(c, op);
    }

    /// <summary>FLDCW: ES and B follow whether a pending exception flag is now unmasked.</summary>
    public static int Fldcw(Cpu c, Op* op)
    {
        CheckFpu(c);
        ushort cw = (ushort)((c.Read16(Handler.Ea(c, op)) & FcwWritable) | FcwReadsOne);
        BinaryPrimitives.WriteUInt16LittleEndian(c.FpuImage.AsSpan(FcwOffset), cw);
        ushort sw = Fsw(c);
        sw = (sw & ~cw & FswExceptions) != 0 ? (ushort)(sw | FswEs | FswBusy) : (ushort)(sw & ~(FswEs | FswBusy));
        SetFsw(c, sw);
        return Handler.Continue;
    }

    /// <summary>FNCLEX: clears the exception flags, SF, ES and B; condition codes and TOP stay.</summary>
    public static int Fnclex(Cpu c, Op* op)
    {
        CheckFpu(c);
        SetFsw(c, (ushort)(Fsw(c) & 0x7F00));
        return Handler.Continue;
    }

    /// <summary>
    /// FWAIT: #NM only when both CR0.MP and CR0.TS are set; a pending unmasked x87 exception
    /// (FSW.ES, only possible after FXRSTOR or FLDCW here) is delivered as #MF when CR0.NE = 1.
    /// </summary>
    public static int Fwait(Cpu c, Op* op)
    {
        if ((c.Cr0 & (Cr0Bits.MP | Cr0Bits.TS)) == (Cr0Bits.MP | Cr0Bits.TS)) throw new CpuFault(ExceptionVector.NM, 0, false);
        if ((Fsw(c) & FswEs) != 0 && (c.Cr0 & Cr0Bits.NE) != 0) throw new CpuFault(ExceptionVector.MF, 0, false);
        return Handler.Continue;
    }
}
