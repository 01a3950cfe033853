using System.Numerics;
using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Lazy arithmetic flags. An instruction stores two words instead of six flags:
/// <see cref="FlagRes"/>, its result sign-extended to 64 bits (gives ZF, SF, PF), and
/// <see cref="FlagAux"/>, carry information normalised so that no operand size is needed later:
/// bit 63 = CF, bit 62 = CF ^ OF, bit 3 = AF, bit 4 flips SF, bits 8..15 flip bits of the parity
/// byte. The flip bits let any flag combination (from POPF, SAHF, IRET) be expressed, including
/// ZF = 1 with PF = 0. Reading a flag is a shift and a mask; there is no switch on the last op.
/// </summary>
internal sealed unsafe partial class Cpu
{
    public ulong FlagRes;
    public ulong FlagAux;

    /// <summary>RFLAGS without the six arithmetic flags (holds bit 1, TF, IF, DF, IOPL, NT, RF, AC, ID).</summary>
    public ulong FlagsOther = RflagsBits.Reserved1;

    private const ulong AuxCf = 1UL << 63;
    private const ulong AuxPo = 1UL << 62;
    private const ulong AuxAf = 1UL << 3;
    private const ulong AuxSfFlip = 1UL << 4;

    public bool CF
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (long)FlagAux < 0;
    }

    public bool ZF
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => FlagRes == 0;
    }

    public bool SF
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (((FlagRes >> 63) ^ (FlagAux >> 4)) & 1) != 0;
    }

    public bool OF
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (((FlagAux >> 62) ^ (FlagAux >> 63)) & 1) != 0;
    }

    public bool AF => (FlagAux & AuxAf) != 0;

    public bool PF => (BitOperations.PopCount((uint)((FlagRes ^ (FlagAux >> 8)) & 0xFF)) & 1) == 0;

    public bool DF => (FlagsOther & RflagsBits.DF) != 0;

    public bool IF => (FlagsOther & RflagsBits.IF) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetFlagsAdd<S>(ulong a, ulong b, ulong r) where S : IOperandSize
    {
        ulong carries = (a & b) | ((a | b) & ~r);
        FlagRes = S.SignExtend(r);
        FlagAux = (carries & AuxAf) | ((carries >> (S.Bits - 2)) << 62);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetFlagsSub<S>(ulong a, ulong b, ulong r) where S : IOperandSize
    {
        ulong borrows = (~a & b) | ((~a | b) & r);
        FlagRes = S.SignExtend(r);
        FlagAux = (borrows & AuxAf) | ((borrows >> (S.Bits - 2)) << 62);
    }

    /// <summary>AND, OR, XOR, TEST: CF = OF = 0, AF left 0 (undefined by the SDM).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetFlagsLogic<S>(ulong r) where S : IOperandSize
    {
        FlagRes = S.SignExtend(r);
        FlagAux = 0;
    }

    /// <summary>INC and DEC: like ADD/SUB of 1 but CF keeps its old value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetFlagsIncDec<S>(ulong carries, ulong r) where S : IOperandSize
    {
        ulong oldCf = FlagAux & AuxCf;
        ulong cv = (carries >> (S.Bits - 2)) << 62; // bit 63 = carry out, bit 62 = carry into MSB
        ulong of = ((cv >> 63) ^ (cv >> 62)) & 1;
        FlagRes = S.SignExtend(r);
        FlagAux = (carries & AuxAf) | oldCf | (((oldCf >> 63) ^ of) << 62);
    }

    /// <summary>Sets result-derived flags from <paramref name="r"/> and CF/OF explicitly (shifts, multiplies, BT...).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetFlagsResultCfOf<S>(ulong r, bool cf, bool of) where S : IOperandSize
    {
        ulong c = cf ? 1UL : 0UL, o = of ? 1UL : 0UL;
        FlagRes = S.SignExtend(r);
        FlagAux = (c << 63) | ((c ^ o) << 62);
    }

    /// <summary>Changes CF only, keeping every other flag (BT family, CLC/STC/CMC).</summary>
    public void SetCarryOnly(bool cf)
    {
        ulong of = OF ? 1UL : 0UL, c = cf ? 1UL : 0UL;
        FlagAux = (FlagAux & ~(AuxCf | AuxPo)) | (c << 63) | ((c ^ of) << 62);
    }

    /// <summary>Changes CF and OF only (rotates).</summary>
    public void SetCarryOverflow(bool cf, bool of)
    {
        ulong c = cf ? 1UL : 0UL, o = of ? 1UL : 0UL;
        FlagAux = (FlagAux & ~(AuxCf | AuxPo)) | (c << 63) | ((c ^ o) << 62);
    }

    public void SetZeroFlagOnly(bool zf)
    {
        ulong f = GetArithmeticFlags() & ~RflagsBits.ZF;
        SetArithmeticFlags(zf ? f | RflagsBits.ZF : f);
    }

    /// <summary>Stores explicit values for the six arithmetic flags.</summary>
    public void SetArithmeticFlags(ulong flags)
    {
        bool zf = (flags & RflagsBits.ZF) != 0, pf = (flags & RflagsBits.PF) != 0;
        ulong cf = flags & RflagsBits.CF, of = (flags & RflagsBits.OF) != 0 ? 1UL : 0UL;
        FlagRes = zf ? 0UL : 1UL;
        ulong parityFlip = zf == pf ? 0UL : 2UL; // 0 has even parity, 1 has odd: flip bit 1 when they disagree
        FlagAux = (cf << 63) | ((cf ^ of) << 62) | ((flags & RflagsBits.AF) >> 1)
            | ((flags & RflagsBits.SF) != 0 ? AuxSfFlip : 0) | (parityFlip << 8);
    }

    public ulong GetArithmeticFlags()
    {
        ulong f = 0;
        if (CF) f |= RflagsBits.CF;
        if (PF) f |= RflagsBits.PF;
        if (AF) f |= RflagsBits.AF;
        if (ZF) f |= RflagsBits.ZF;
        if (SF) f |= RflagsBits.SF;
        if (OF) f |= RflagsBits.OF;
        return f;
    }

    public ulong GetRflags() => FlagsOther | GetArithmeticFlags();

    public void SetRflags(ulong value)
    {
        FlagsOther = (value & ~RflagsBits.Arithmetic & (RflagsBits.Writable | RflagsBits.VM | RflagsBits.VIF | RflagsBits.VIP)) | RflagsBits.Reserved1;
        SetArithmeticFlags(value);
    }

    /// <summary>Evaluates condition code <paramref name="cc"/> in the Jcc encoding order (O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G).</summary>
    public bool Condition(int cc)
    {
        bool r = (cc >> 1) switch
        {
            0 => OF,
            1 => CF,
            2 => ZF,
            3 => CF || ZF,
            4 => SF,
            5 => PF,
            6 => SF != OF,
            _ => ZF || SF != OF,
        };
        return r ^ ((cc & 1) != 0);
    }
}
