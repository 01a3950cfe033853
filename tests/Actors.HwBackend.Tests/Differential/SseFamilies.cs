using Iced.Intel;
using M = Iced.Intel.Mnemonic;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>SSE/SSE2 families: the scalar and vector forms gcc emits for float, double and integer code.</summary>
internal static class SseFamilies
{
    public static Family Moves { get; } = new()
    {
        Name = "SseMoves",
        Cases = 5000,
        Codes = FormCatalog.Of([M.Movd, M.Movq, M.Movaps, M.Movups, M.Movapd, M.Movupd, M.Movdqa, M.Movdqu,
            M.Movss, M.Movsd, M.Movhps, M.Movlps, M.Movhlps, M.Movlhps, M.Movhpd, M.Movlpd], FormCatalog.Sse12),
        Configure = b =>
        {
            b.MemoryChance = 0.5;
            b.IntLaneBits = 64;
        },
    };

    public static Family ScalarArith { get; } = new()
    {
        Name = "SseScalarArith",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Addss, M.Addsd, M.Subss, M.Subsd, M.Mulss, M.Mulsd, M.Divss, M.Divsd,
            M.Minss, M.Minsd, M.Maxss, M.Maxsd, M.Sqrtss, M.Sqrtsd], FormCatalog.Sse12),
        Configure = FloatDefaults,
        Adjust = SometimesEqualSources,
    };

    public static Family PackedArith { get; } = new()
    {
        Name = "SsePackedArith",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Addps, M.Addpd, M.Subps, M.Subpd, M.Mulps, M.Mulpd, M.Divps, M.Divpd,
            M.Minps, M.Minpd, M.Maxps, M.Maxpd, M.Sqrtps, M.Sqrtpd], FormCatalog.Sse12),
        Configure = FloatDefaults,
        Adjust = SometimesEqualSources,
    };

    public static Family Convert { get; } = new()
    {
        Name = "SseConvert",
        Cases = 5000,
        Codes = FormCatalog.Of([M.Cvtsi2sd, M.Cvtsi2ss, M.Cvttsd2si, M.Cvttss2si, M.Cvtsd2si, M.Cvtss2si, M.Cvtsd2ss,
            M.Cvtss2sd, M.Cvtdq2pd, M.Cvtdq2ps, M.Cvtps2pd, M.Cvtpd2ps, M.Cvttps2dq, M.Cvttpd2dq, M.Cvtps2dq, M.Cvtpd2dq],
            FormCatalog.Sse12),
        Configure = FloatDefaults,
    };

    public static Family Compare { get; } = new()
    {
        Name = "SseCompare",
        Codes = FormCatalog.Of([M.Ucomisd, M.Comisd, M.Ucomiss, M.Comiss, M.Cmpps, M.Cmppd, M.Cmpss, M.Cmpsd], FormCatalog.Sse12),
        Configure = FloatDefaults,
        Adjust = CompareAdjust,
    };

    public static Family Logic { get; } = new()
    {
        Name = "SseLogic",
        Codes = FormCatalog.Of([M.Andps, M.Andnps, M.Orps, M.Xorps, M.Andpd, M.Andnpd, M.Orpd, M.Xorpd,
            M.Pand, M.Pandn, M.Por, M.Pxor], FormCatalog.Sse12),
        Configure = b => b.IntLaneBits = 64,
        Adjust = SometimesEqualSources,
    };

    public static Family IntArith { get; } = new()
    {
        Name = "SseIntArith",
        Codes = FormCatalog.Of([M.Paddb, M.Paddw, M.Paddd, M.Paddq, M.Psubb, M.Psubw, M.Psubd, M.Psubq,
            M.Pcmpeqb, M.Pcmpeqw, M.Pcmpeqd, M.Pcmpgtb, M.Pcmpgtw, M.Pcmpgtd, M.Pmuludq, M.Pmullw], FormCatalog.Sse12),
        Configure = IntLanesBySuffix,
        Adjust = SometimesEqualSources,
    };

    public static Family IntExtra { get; } = new()
    {
        Name = "SseIntSaturateMulPack",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Paddsb, M.Paddsw, M.Paddusb, M.Paddusw, M.Psubsb, M.Psubsw, M.Psubusb, M.Psubusw,
            M.Pmulhw, M.Pmulhuw, M.Pmaddwd, M.Pavgb, M.Pavgw, M.Pminub, M.Pmaxub, M.Pminsw, M.Pmaxsw, M.Psadbw,
            M.Packsswb, M.Packssdw, M.Packuswb], FormCatalog.Sse12),
        Configure = IntLanesBySuffix,
    };

    public static Family Shuffle { get; } = new()
    {
        Name = "SseShuffleUnpack",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Punpcklbw, M.Punpcklwd, M.Punpckldq, M.Punpcklqdq, M.Punpckhbw, M.Punpckhwd,
            M.Punpckhdq, M.Punpckhqdq, M.Pshufd, M.Pshuflw, M.Pshufhw, M.Shufps, M.Shufpd, M.Unpcklps, M.Unpcklpd,
            M.Unpckhps, M.Unpckhpd], FormCatalog.Sse12),
        Configure = b => b.IntLaneBits = 64,
    };

    public static Family Shift { get; } = new()
    {
        Name = "SseShift",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Psllw, M.Pslld, M.Psllq, M.Psrlw, M.Psrld, M.Psrlq, M.Psraw, M.Psrad, M.Pslldq, M.Psrldq],
            FormCatalog.Sse12),
        Configure = IntLanesBySuffix,
        Adjust = b =>
        {
            // The count is an imm8 or the low quadword of an XMM/m128: mostly near the lane widths.
            int countOp = b.OpCount - 1;
            ulong count = b.Rng.Chance(0.8) ? (ulong)b.Rng.Range(0, 70) : b.Rng.Chance(0.5) ? b.Rng.Next() & 0xFF : b.Rng.Next();
            if (b.Op(countOp).Type == OperandType.Immediate)
                count &= 0xFF;
            b.Set(countOp, count);
            return true;
        },
    };

    public static Family Misc { get; } = new()
    {
        Name = "SseMaskInsertExtract",
        Codes = FormCatalog.Of([M.Pmovmskb, M.Movmskps, M.Movmskpd, M.Pinsrw, M.Pextrw], FormCatalog.Sse12),
        Configure = b =>
        {
            b.Lanes = b.Mnemonic switch { M.Movmskps => LaneKind.Float32, M.Movmskpd => LaneKind.Float64, _ => LaneKind.Int };
            b.IntLaneBits = 8;
        },
    };

    /// <summary>
    /// Float arithmetic, conversions and compares under non-default MXCSR controls: every rounding
    /// mode, DAZ and FTZ. Exceptions stay masked (an unmasked one would fault on the host).
    /// </summary>
    public static Family FpControls { get; } = new()
    {
        Name = "SseRoundingDazFtz",
        Cases = 5000,
        Codes = [.. ScalarArith.Codes, .. PackedArith.Codes, .. Convert.Codes, .. Compare.Codes],
        Configure = b =>
        {
            FloatDefaults(b);
            uint mxcsr = 0x1F80 | (uint)(b.Rng.Below(4) << 13) | (uint)(b.Rng.Next() & 0x3F);
            if (b.Rng.Chance(0.5))
                mxcsr |= 0x40; // DAZ
            if (b.Rng.Chance(0.5))
                mxcsr |= 0x8000; // FTZ
            b.State.Mxcsr = mxcsr;
        },
        Adjust = b => b.OpCount == 3 && b.Mnemonic is M.Cmpps or M.Cmppd or M.Cmpss or M.Cmpsd ? CompareAdjust(b) : SometimesEqualSources(b),
    };

    public static readonly Family[] All =
        [Moves, ScalarArith, PackedArith, Convert, Compare, Logic, IntArith, IntExtra, Shuffle, Shift, Misc, FpControls];

    /// <summary>
    /// Lanes by operand type, and random sticky exception flags in MXCSR half of the time (they
    /// must be kept, and an emulator may take shortcuts once PE is already set).
    /// </summary>
    private static void FloatDefaults(CaseBuilder b)
    {
        string name = b.Mnemonic.ToString();
        b.Lanes = b.Mnemonic switch
        {
            M.Cvttsd2si or M.Cvtsd2si or M.Cvtsd2ss or M.Cvtpd2ps or M.Cvttpd2dq or M.Cvtpd2dq => LaneKind.Float64,
            M.Cvttss2si or M.Cvtss2si or M.Cvtss2sd or M.Cvtps2pd or M.Cvttps2dq or M.Cvtps2dq => LaneKind.Float32,
            M.Cvtsi2sd or M.Cvtsi2ss or M.Cvtdq2pd or M.Cvtdq2ps => LaneKind.Int,
            _ when name.EndsWith("ss", StringComparison.Ordinal) || name.EndsWith("ps", StringComparison.Ordinal) => LaneKind.Float32,
            _ => LaneKind.Float64,
        };
        b.IntLaneBits = 32;
        if (b.Rng.Chance(0.5))
            b.State.Mxcsr = 0x1F80 | (uint)(b.Rng.Next() & 0x3F);
    }

    private static bool CompareAdjust(CaseBuilder b)
    {
        // Legacy CMPxx predicates are imm8[2:0]; higher values are reserved.
        if (b.OpCount == 3)
            b.Set(2, (ulong)b.Rng.Below(8));
        return SometimesEqualSources(b);
    }

    private static void IntLanesBySuffix(CaseBuilder b)
    {
        string name = b.Mnemonic.ToString();
        b.IntLaneBits = name[^1] switch
        {
            'b' => 8,
            'w' => 16,
            'd' => 32,
            _ => 64,
        };
        if (name.EndsWith("dq", StringComparison.Ordinal))
            b.IntLaneBits = name is "Pmuludq" ? 32 : 64;
    }

    /// <summary>A fifth of the time, the source equals the destination (x - x, x == x, min(x, x) ...).</summary>
    private static bool SometimesEqualSources(CaseBuilder b)
    {
        if (b.OpCount >= 2 && b.Op(0).IsXmm && b.Rng.Chance(0.2))
        {
            var src = b.Op(1);
            int dst = b.Op(0).Register - Register.XMM0;
            if (src.IsXmm)
                b.State.Xmm.AsSpan((src.Register - Register.XMM0) * 16, 16).CopyTo(b.State.Xmm.AsSpan(dst * 16, 16));
            else if (src.Type == OperandType.Memory)
                b.Data.AsSpan((int)(src.Address - DiffLayout.DataBase), src.Size).CopyTo(b.State.Xmm.AsSpan(dst * 16, src.Size));
        }
        return true;
    }
}
