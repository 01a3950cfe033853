using System.Runtime.CompilerServices;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD, SHRD with the SDM's count rules: the count is masked
/// to 5 bits (6 for 64-bit operands); a masked count of 0 changes nothing, not even flags; OF is
/// defined for a count of 1 only (we compute the count-1 formula for every count, as hardware does).
/// Aux: 0 ROL, 1 ROR, 2 RCL, 3 RCR, 4 SHL, 5 SHR, 6 SAL, 7 SAR. The count comes from CL when
/// K1 is a register, else from Imm.
/// </summary>
internal static unsafe class ShiftHandlers
{
    private static ulong Count<S>(Cpu c, Op* op) where S : IOperandSize =>
        (op->K1 == OperandKind.Register ? (byte)c.Regs[Cpu.RCX] : op->Imm) & (S.Bits == 64 ? 0x3FUL : 0x1FUL);

    public static int ShiftR<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong count = Count<S>(c, op);
        // A 32-bit register operand is written (zero-extended) even when the count is 0.
        ulong a = S.ReadReg(c, op->R1);
        S.WriteReg(c, op->R1, count == 0 ? a : Shift<S>(c, op->Aux, a, (int)count));
        return Handler.Continue;
    }

    public static int ShiftM<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong la = Handler.Ea(c, op);
        ulong a = S.Read(c, la);
        ulong count = Count<S>(c, op);
        if (count == 0) return Handler.Continue;
        S.Write(c, la, Shift<S>(c, op->Aux, a, (int)count));
        return Handler.AfterWrite(c, op);
    }

    /// <summary>Fast SHL/SHR/SAR reg, imm with a non-zero count known at translate time.</summary>
    public static int ShlRI<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ShlRI<S, FlagsLive>(c, c.Regs, op->R1, op->Imm);
        return Handler.Continue;
    }

    [Translates(nameof(ShlRI), Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ShlRI<S, F>(Cpu c, ulong* regs, int r1, ulong imm) where S : IOperandSize where F : IFlagsMode
    {
        ulong a = S.ReadReg(regs, r1);
        int n = (int)imm;
        ulong r = (a << n) & S.Mask;
        if (F.Live)
        {
            bool cf = n <= S.Bits && ((a >> (S.Bits - n)) & 1) != 0;
            c.SetFlagsResultCfOf<S>(r, cf, ((r >> (S.Bits - 1)) & 1) != 0 ^ cf);
        }

        S.WriteReg(regs, r1, r);
    }

    public static int ShrRI<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ShrRI<S, FlagsLive>(c, c.Regs, op->R1, op->Imm);
        return Handler.Continue;
    }

    [Translates(nameof(ShrRI), Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ShrRI<S, F>(Cpu c, ulong* regs, int r1, ulong imm) where S : IOperandSize where F : IFlagsMode
    {
        ulong a = S.ReadReg(regs, r1);
        int n = (int)imm;
        ulong r = n >= S.Bits ? 0 : a >> n;
        if (F.Live)
            c.SetFlagsResultCfOf<S>(r, ((a >> (n - 1)) & 1) != 0, ((a >> (S.Bits - 1)) & 1) != 0);
        S.WriteReg(regs, r1, r);
    }

    public static int SarRI<S>(Cpu c, Op* op) where S : IOperandSize
    {
        SarRI<S, FlagsLive>(c, c.Regs, op->R1, op->Imm);
        return Handler.Continue;
    }

    [Translates(nameof(SarRI), Flags = FlagEffect.WritesAll)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SarRI<S, F>(Cpu c, ulong* regs, int r1, ulong imm) where S : IOperandSize where F : IFlagsMode
    {
        long a = (long)S.SignExtend(S.ReadReg(regs, r1));
        int n = (int)imm;
        ulong r = (ulong)(a >> Math.Min(n, 63)) & S.Mask;
        if (F.Live)
            c.SetFlagsResultCfOf<S>(r, ((a >> Math.Min(n - 1, 63)) & 1) != 0, false);
        S.WriteReg(regs, r1, r);
    }

    private static ulong Shift<S>(Cpu c, int kind, ulong a, int n) where S : IOperandSize
    {
        int bits = S.Bits;
        ulong msb = 1UL << (bits - 1);
        ulong mask = S.Mask;
        a &= mask;
        switch (kind)
        {
            case 0: // ROL: CF = low bit of result, OF = MSB ^ CF; other flags unchanged
                {
                    int k = n % bits;
                    ulong r = k == 0 ? a : ((a << k) | (a >> (bits - k))) & mask;
                    bool cf = (r & 1) != 0;
                    c.SetCarryOverflow(cf, ((r & msb) != 0) ^ cf);
                    return r;
                }
            case 1: // ROR: CF = MSB of result, OF = the two top bits differ
                {
                    int k = n % bits;
                    ulong r = k == 0 ? a : ((a >> k) | (a << (bits - k))) & mask;
                    bool cf = (r & msb) != 0;
                    c.SetCarryOverflow(cf, cf ^ ((r & (msb >> 1)) != 0));
                    return r;
                }
            case 2: // RCL through CF: a (bits+1)-bit rotation
                {
                    int k = bits < 32 ? n % (bits + 1) : n;
                    bool cf = c.CF;
                    ulong r = a;
                    for (int i = 0; i < k; i++)
                    {
                        bool top = (r & msb) != 0;
                        r = ((r << 1) | (cf ? 1UL : 0UL)) & mask;
                        cf = top;
                    }
                    if (k != 0) c.SetCarryOverflow(cf, ((r & msb) != 0) ^ cf);
                    return r;
                }
            case 3: // RCR: OF = MSB(dest) ^ CF before the rotation
                {
                    int k = bits < 32 ? n % (bits + 1) : n;
                    bool cf = c.CF;
                    bool of = ((a & msb) != 0) ^ cf;
                    ulong r = a;
                    for (int i = 0; i < k; i++)
                    {
                        bool low = (r & 1) != 0;
                        r = (r >> 1) | (cf ? msb : 0);
                        cf = low;
                    }
                    if (k != 0) c.SetCarryOverflow(cf, of);
                    return r;
                }
            case 4:
            case 6: // SHL/SAL
                {
                    ulong r = n >= 64 ? 0 : (a << n) & mask;
                    bool cf = n <= bits && ((a >> (bits - n)) & 1) != 0;
                    c.SetFlagsResultCfOf<S>(r, cf, ((r & msb) != 0) ^ cf);
                    return r;
                }
            case 5: // SHR
                {
                    ulong r = n >= 64 ? 0 : a >> n;
                    bool cf = n <= bits && ((a >> (n - 1)) & 1) != 0;
                    c.SetFlagsResultCfOf<S>(r, cf, (a & msb) != 0);
                    return r;
                }
            default: // SAR
                {
                    long s = (long)S.SignExtend(a);
                    ulong r = (ulong)(s >> Math.Min(n, 63)) & mask;
                    bool cf = ((s >> Math.Min(n - 1, 63)) & 1) != 0;
                    c.SetFlagsResultCfOf<S>(r, cf, false);
                    return r;
                }
        }
    }

    /// <summary>SHLD/SHRD (Aux 0/1): operand 0 r/m, R2 the fill register, count from CL (K2 register) or Imm.</summary>
    public static int DoubleShift<S>(Cpu c, Op* op) where S : IOperandSize
    {
        ulong count = (op->K2 == OperandKind.Register ? (byte)c.Regs[Cpu.RCX] : op->Imm) & (S.Bits == 64 ? 0x3FUL : 0x1FUL);
        bool mem = op->K0 == OperandKind.Memory;
        ulong la = mem ? Handler.Ea(c, op) : 0;
        ulong a = mem ? S.Read(c, la) : S.ReadReg(c, op->R1);
        if (count == 0)
        {
            if (!mem) S.WriteReg(c, op->R1, a);
            return Handler.Continue;
        }
        ulong b = S.ReadReg(c, op->R2);
        int bits = S.Bits, n = (int)count;
        ulong msb = 1UL << (bits - 1);
        ulong r;
        bool cf;
        if (bits == 16 && n > 16)
        {
            // Undefined by the SDM; model the 32-bit concatenation the way AMD and Intel both behave for 16 < n < 32.
            ulong wide = op->Aux == 0 ? (a << 16) | b : (b << 16) | a;
            wide |= wide << 32;
            r = op->Aux == 0 ? (wide << n >> 32) & 0xFFFF : (wide >> n) & 0xFFFF;
            cf = op->Aux == 0 ? ((wide << (n - 1) >> 47) & 1) != 0 : ((wide >> (n - 1)) & 1) != 0;
        }
        else if (op->Aux == 0)
        {
            r = ((a << n) | (n == bits ? b : b >> (bits - n))) & S.Mask;
            cf = ((a >> (bits - n)) & 1) != 0;
        }
        else
        {
            r = ((a >> n) | (n == bits ? b : b << (bits - n))) & S.Mask;
            cf = ((a >> (n - 1)) & 1) != 0;
        }
        c.SetFlagsResultCfOf<S>(r, cf, ((r ^ a) & msb) != 0);
        if (mem)
        {
            S.Write(c, la, r);
            return Handler.AfterWrite(c, op);
        }
        S.WriteReg(c, op->R1, r);
        return Handler.Continue;
    }
}
