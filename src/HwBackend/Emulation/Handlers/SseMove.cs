using System.Runtime.Intrinsics;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// SSE/SSE2 data movement: MOVD/MOVQ, the 128-bit moves, MOVSS/MOVSD, the half-register moves,
/// the non-temporal stores, MOVMSKPS/PD, PMOVMSKB, PINSRW and PEXTRW. Handler names say the form:
/// X = XMM register, R = general register, M = memory; destination first.
/// </summary>
internal static unsafe class SseMove
{
    // ---- MOVD / MOVQ ------------------------------------------------------------------------

    /// <summary>MOVD xmm, r32: zero-extends into all 128 bits.</summary>
    public static int MovdXR(Cpu c, Op* op)
    {
        SseCore.Check(c);
        ulong* d = c.Xmm + 2 * op->R1;
        d[0] = (uint)c.Regs[op->R2];
        d[1] = 0;
        return Handler.Continue;
    }

    public static int MovdXM(Cpu c, Op* op)
    {
        SseCore.Check(c);
        ulong v = c.Read32(Handler.Ea(c, op));
        ulong* d = c.Xmm + 2 * op->R1;
        d[0] = v;
        d[1] = 0;
        return Handler.Continue;
    }

    /// <summary>MOVQ xmm, r64.</summary>
    public static int MovqXR(Cpu c, Op* op)
    {
        SseCore.Check(c);
        ulong* d = c.Xmm + 2 * op->R1;
        d[0] = c.Regs[op->R2];
        d[1] = 0;
        return Handler.Continue;
    }

    /// <summary>MOVQ xmm, m64 (both the 66 REX.W 6E and the F3 7E encodings): zero-extends.</summary>
    public static int MovqXM(Cpu c, Op* op)
    {
        SseCore.Check(c);
        ulong v = c.Read64(Handler.Ea(c, op));
        ulong* d = c.Xmm + 2 * op->R1;
        d[0] = v;
        d[1] = 0;
        return Handler.Continue;
    }

    /// <summary>MOVQ xmm, xmm (F3 7E and 66 D6): copies the low quadword, zeroes the high one.</summary>
    public static int MovqXX(Cpu c, Op* op)
    {
        SseCore.Check(c);
        ulong* d = c.Xmm + 2 * op->R1;
        d[0] = c.Xmm[2 * op->R2];
        d[1] = 0;
        return Handler.Continue;
    }

    /// <summary>MOVD r32, xmm: the 32-bit GPR write zero-extends.</summary>
    public static int MovdRX(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Regs[op->R1] = (uint)c.Xmm[2 * op->R2];
        return Handler.Continue;
    }

    public static int MovqRX(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Regs[op->R1] = c.Xmm[2 * op->R2];
        return Handler.Continue;
    }

    /// <summary>MOVD m32, xmm; also MOVSS m32, xmm.</summary>
    public static int Store32(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Write32(Handler.Ea(c, op), (uint)c.Xmm[2 * op->R2]);
        return Handler.AfterWrite(c, op);
    }

    /// <summary>MOVQ m64, xmm; also MOVSD/MOVLPS/MOVLPD m64, xmm.</summary>
    public static int Store64(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Write64(Handler.Ea(c, op), c.Xmm[2 * op->R2]);
        return Handler.AfterWrite(c, op);
    }

    /// <summary>MOVHPS/MOVHPD m64, xmm.</summary>
    public static int StoreHigh64(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Write64(Handler.Ea(c, op), c.Xmm[2 * op->R2 + 1]);
        return Handler.AfterWrite(c, op);
    }

    // ---- 128-bit moves -----------------------------------------------------------------------

    /// <summary>MOVAPS/MOVUPS/MOVAPD/MOVUPD/MOVDQA/MOVDQU xmm, xmm.</summary>
    public static int Mov128XX(Cpu c, Op* op)
    {
        SseCore.Check(c);
        *SseCore.X(c, op->R1) = *SseCore.X(c, op->R2);
        return Handler.Continue;
    }

    /// <summary>128-bit load: <typeparamref name="TSrc"/> decides whether misalignment is a #GP.</summary>
    public static int Mov128XM<TSrc>(Cpu c, Op* op) where TSrc : IXmmSource
    {
        SseCore.Check(c);
        *SseCore.X(c, op->R1) = TSrc.V128(c, op);
        return Handler.Continue;
    }

    /// <summary>MOVAPS/MOVAPD/MOVDQA and MOVNTPS/MOVNTPD/MOVNTDQ m128, xmm (non-temporal hints mean nothing here).</summary>
    public static int Store128Aligned(Cpu c, Op* op)
    {
        SseCore.Check(c);
        SseCore.StoreAligned(c, Handler.Ea(c, op), *SseCore.X(c, op->R2));
        return Handler.AfterWrite(c, op);
    }

    public static int Store128(Cpu c, Op* op)
    {
        SseCore.Check(c);
        SseCore.Store(c, Handler.Ea(c, op), *SseCore.X(c, op->R2));
        return Handler.AfterWrite(c, op);
    }

    // ---- MOVSS / MOVSD -----------------------------------------------------------------------

    /// <summary>MOVSS xmm, xmm merges the low dword; the rest of the destination is kept.</summary>
    public static int MovssXX(Cpu c, Op* op)
    {
        SseCore.Check(c);
        *(uint*)(c.Xmm + 2 * op->R1) = (uint)c.Xmm[2 * op->R2];
        return Handler.Continue;
    }

    /// <summary>MOVSS xmm, m32 zeroes bits 32..127; it is MOVD xmm, m32.</summary>
    public static int MovssXM(Cpu c, Op* op) => MovdXM(c, op);

    public static int MovsdXX(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Xmm[2 * op->R1] = c.Xmm[2 * op->R2];
        return Handler.Continue;
    }

    // ---- half-register moves -----------------------------------------------------------------

    /// <summary>MOVLPS/MOVLPD xmm, m64: replaces the low quadword only.</summary>
    public static int LoadLow64(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Xmm[2 * op->R1] = c.Read64(Handler.Ea(c, op));
        return Handler.Continue;
    }

    /// <summary>MOVHPS/MOVHPD xmm, m64: replaces the high quadword only.</summary>
    public static int LoadHigh64(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Xmm[2 * op->R1 + 1] = c.Read64(Handler.Ea(c, op));
        return Handler.Continue;
    }

    public static int Movhlps(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Xmm[2 * op->R1] = c.Xmm[2 * op->R2 + 1];
        return Handler.Continue;
    }

    public static int Movlhps(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Xmm[2 * op->R1 + 1] = c.Xmm[2 * op->R2];
        return Handler.Continue;
    }

    // ---- MOVNTI: SSE2, but on general registers, so CR0.EM/TS and CR4.OSFXSR do not apply ------

    public static int Movnti32(Cpu c, Op* op)
    {
        c.Write32(Handler.Ea(c, op), (uint)c.Regs[op->R2]);
        return Handler.AfterWrite(c, op);
    }

    public static int Movnti64(Cpu c, Op* op)
    {
        c.Write64(Handler.Ea(c, op), c.Regs[op->R2]);
        return Handler.AfterWrite(c, op);
    }

    // ---- MASKMOVDQU ---------------------------------------------------------------------------

    /// <summary>
    /// MASKMOVDQU xmm1, xmm2: stores the bytes of xmm1 whose byte in xmm2 has its top bit set to
    /// [DS:rDI] (the translator points the Op's address fields at rDI). Nothing is accessed for an
    /// all-zero mask; otherwise all 16 bytes are probed first, which the SDM allows.
    /// </summary>
    public static int Maskmovdqu(Cpu c, Op* op)
    {
        SseCore.Check(c);
        uint mask = SseCore.X(c, op->R3)->ExtractMostSignificantBits();
        if (mask == 0) return Handler.Continue;
        ulong la = Handler.Ea(c, op);
        c.ProbeWrite(la, 16);
        byte* src = (byte*)SseCore.X(c, op->R2);
        for (int i = 0; i < 16; i++)
        {
            if ((mask & (1u << i)) != 0) c.Write8((la + (ulong)i) & c.LinearMask, src[i]);
        }
        return Handler.AfterWrite(c, op);
    }

    // ---- sign masks ----------------------------------------------------------------------------

    public static int Movmskps(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Regs[op->R1] = SseCore.X(c, op->R2)->AsUInt32().ExtractMostSignificantBits();
        return Handler.Continue;
    }

    public static int Movmskpd(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Regs[op->R1] = SseCore.X(c, op->R2)->AsUInt64().ExtractMostSignificantBits();
        return Handler.Continue;
    }

    public static int Pmovmskb(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Regs[op->R1] = SseCore.X(c, op->R2)->ExtractMostSignificantBits();
        return Handler.Continue;
    }

    // ---- word insert / extract ---------------------------------------------------------------

    /// <summary>PINSRW xmm, r32, imm8: word imm8[2:0] of the destination gets the register's low word.</summary>
    public static int PinsrwXR(Cpu c, Op* op)
    {
        SseCore.Check(c);
        ((ushort*)(c.Xmm + 2 * op->R1))[op->Imm & 7] = (ushort)c.Regs[op->R2];
        return Handler.Continue;
    }

    public static int PinsrwXM(Cpu c, Op* op)
    {
        SseCore.Check(c);
        ushort v = c.Read16(Handler.Ea(c, op));
        ((ushort*)(c.Xmm + 2 * op->R1))[op->Imm & 7] = v;
        return Handler.Continue;
    }

    /// <summary>PEXTRW r32/r64, xmm, imm8: zero-extended into the whole register.</summary>
    public static int PextrwRX(Cpu c, Op* op)
    {
        SseCore.Check(c);
        c.Regs[op->R1] = ((ushort*)(c.Xmm + 2 * op->R2))[op->Imm & 7];
        return Handler.Continue;
    }
}
