using System.Buffers.Binary;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// LDMXCSR/STMXCSR and FXSAVE/FXRSTOR. The FXSAVE image is the x87 part of <see cref="Cpu.FpuImage"/>
/// (bytes 0..23 and the ST/MM registers at 32..159), MXCSR and MXCSR_MASK at 24, and the XMM
/// registers at 160 (XMM0-15 in 64-bit mode, XMM0-7 otherwise). Bytes 416..511 are never written,
/// as on hardware (464..511 are the software-available area).
/// </summary>
internal static unsafe class SseState
{
    /// <summary>What FXSAVE reports as MXCSR_MASK: every bit of the low word, DAZ included, is implemented.</summary>
    public const uint MxcsrMask = MxcsrBits.Writable;

    private const int StOffset = 32, XmmOffset = 160;

    public static int Ldmxcsr(Cpu c, Op* op)
    {
        SseCore.Check(c);
        uint v = c.Read32(Handler.Ea(c, op));
        if ((v & ~MxcsrBits.Writable) != 0) throw SseCore.GeneralProtection();
        c.Mxcsr = v;
        return Handler.Continue;
    }

    public static int Stmxcsr(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Write32(Handler.Ea(c, op), c.Mxcsr);
        return Handler.AfterWrite(c, op);
    }

    /// <summary>FXSAVE/FXSAVE64: #NM when CR0.EM or CR0.TS (not #UD: FXSAVE works without CR4.OSFXSR); #GP when misaligned.</summary>
    public static int Fxsave(Cpu c, Op* op)
    {
        X87Handlers.CheckFpu(c);
        ulong la = Handler.Ea(c, op);
        if ((la & 15) != 0) throw SseCore.GeneralProtection();
        int xmmCount = c.Bitness == 64 ? 16 : 8;
        // An aligned 512-byte area spans at most two pages: probe them so a fault writes nothing.
        c.ProbeWrite(la, XmmOffset + 16 * xmmCount);
        var image = c.FpuImage.AsSpan();
        for (int i = 0; i < 24; i += 8)
            c.Write64(la + (ulong)i, BinaryPrimitives.ReadUInt64LittleEndian(image[i..]));
        c.Write64(la + 24, c.Mxcsr | ((ulong)MxcsrMask << 32));
        for (int i = StOffset; i < XmmOffset; i += 8)
            c.Write64(la + (ulong)i, BinaryPrimitives.ReadUInt64LittleEndian(image[i..]));
        for (int i = 0; i < 2 * xmmCount; i++)
            c.Write64(la + XmmOffset + (ulong)(8 * i), c.Xmm[i]);
        return Handler.AfterWrite(c, op);
    }

    /// <summary>FXRSTOR/FXRSTOR64: reserved MXCSR bits in the image are a #GP, checked before anything is loaded.</summary>
    public static int Fxrstor(Cpu c, Op* op)
    {
        X87Handlers.CheckFpu(c);
        ulong la = Handler.Ea(c, op);
        if ((la & 15) != 0) throw SseCore.GeneralProtection();
        int xmmCount = c.Bitness == 64 ? 16 : 8;
        c.ProbeRead(la, XmmOffset + 16 * xmmCount);
        uint mxcsr = c.Read32(la + 24);
        if ((mxcsr & ~MxcsrBits.Writable) != 0) throw SseCore.GeneralProtection();
        var image = c.FpuImage.AsSpan();
        for (int i = 0; i < 24; i += 8)
            BinaryPrimitives.WriteUInt64LittleEndian(image[i..], c.Read64(la + (ulong)i));
        for (int i = StOffset; i < XmmOffset; i += 8)
            BinaryPrimitives.WriteUInt64LittleEndian(image[i..], c.Read64(la + (ulong)i));
        for (int i = 0; i < 2 * xmmCount; i++)
            c.Xmm[i] = c.Read64(la + XmmOffset + (ulong)(8 * i));
        c.Mxcsr = mxcsr;
        return Handler.Continue;
    }
}
