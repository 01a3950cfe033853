using Iced.Intel;
using M = Iced.Intel.Mnemonic;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>General-purpose integer instruction families (the forms gcc -O2 emits for freestanding code).</summary>
internal static class IntegerFamilies
{
    private const ushort Rax = 1 << 0, Rcx = 1 << 1, Rdx = 1 << 2, Rbx = 1 << 3;

    public static Family MovLea { get; } = new()
    {
        Name = "MovLea",
        Cases = 5000,
        Codes = FormCatalog.Of([M.Mov, M.Movzx, M.Movsx, M.Movsxd, M.Lea],
            where: c => c is not (Code.Movsxd_r16_rm16 or Code.Movsxd_r32_rm32) && c.ToString().IndexOf("moffs", StringComparison.OrdinalIgnoreCase) < 0),
        Configure = b => b.MemoryChance = 0.5,
    };

    public static Family AddSub { get; } = new()
    {
        Name = "AddAdcSubSbb",
        Cases = 6000,
        Codes = FormCatalog.Of([M.Add, M.Adc, M.Sub, M.Sbb]),
        Configure = b => b.LockChance = 0.3,
    };

    public static Family Logic { get; } = new()
    {
        Name = "AndOrXor",
        Cases = 5000,
        Codes = FormCatalog.Of([M.And, M.Or, M.Xor]),
        Configure = b => b.LockChance = 0.3,
    };

    public static Family CmpTest { get; } = new()
    {
        Name = "CmpTest",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Cmp, M.Test]),
    };

    public static Family IncDecNegNot { get; } = new()
    {
        Name = "IncDecNegNot",
        Codes = FormCatalog.Of([M.Inc, M.Dec, M.Neg, M.Not]),
        Configure = b => b.LockChance = 0.3,
    };

    public static Family Shifts { get; } = new()
    {
        Name = "ShlShrSar",
        Cases = 5000,
        Codes = FormCatalog.Of([M.Shl, M.Shr, M.Sar]),
        Adjust = b => SetCount(b, 1),
    };

    public static Family RolRor { get; } = new()
    {
        Name = "RolRor",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Rol, M.Ror]),
        Adjust = b => SetCount(b, 1),
    };

    public static Family RclRcr { get; } = new()
    {
        Name = "RclRcr",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Rcl, M.Rcr]),
        Adjust = b => SetCount(b, 1),
    };

    public static Family ShldShrd { get; } = new()
    {
        Name = "ShldShrd",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Shld, M.Shrd]),
        Adjust = b => SetCount(b, 2),
    };

    public static Family MulImul { get; } = new()
    {
        Name = "MulImul",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Mul, M.Imul]),
        Configure = b => b.ReservedGprs = Rax | Rdx,
    };

    public static Family DivIdiv { get; } = new()
    {
        Name = "DivIdiv",
        Codes = FormCatalog.Of([M.Div, M.Idiv]),
        Configure = b => b.ReservedGprs = Rax | Rdx,
        Adjust = SetDivision,
    };

    public static Family SignExtend { get; } = new()
    {
        Name = "CbwCwdeCdqeCwdCdqCqo",
        Codes = FormCatalog.Of([M.Cbw, M.Cwde, M.Cdqe, M.Cwd, M.Cdq, M.Cqo]),
        Adjust = b =>
        {
            b.State.Gprs[0] = b.Rng.Edge(64);
            return true;
        },
    };

    public static Family BitTest { get; } = new()
    {
        Name = "BtBtsBtrBtc",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Bt, M.Bts, M.Btr, M.Btc]),
        Configure = b =>
        {
            b.LockChance = 0.3;
            // A register bit offset reaches up to +-256 bytes around the operand (see Adjust).
            b.MemoryMargin = 0x180;
        },
        Adjust = b =>
        {
            if (b.Op(0).Type == OperandType.Memory && b.Op(1).Type == OperandType.Register)
            {
                // Register offsets are signed and unbounded for memory: keep the bit inside the window.
                long bit = b.Rng.Chance(0.5) ? b.Rng.Range(-2048, 2047) : b.Rng.Range(-64, 64);
                b.Set(1, (ulong)bit);
            }
            return true;
        },
    };

    public static Family BitScan { get; } = new()
    {
        Name = "BsfBsrTzcntLzcntPopcnt",
        // Without LZCNT/BMI1 the host runs F3 0F BD/BC as BSR/BSF: leave those forms out there.
        Codes = FormCatalog.Of([M.Bsf, M.Bsr, M.Popcnt, .. NativeFeatures.HasLzcnt ? [M.Lzcnt] : Array.Empty<M>(), .. NativeFeatures.HasTzcnt ? [M.Tzcnt] : Array.Empty<M>()]),
        Adjust = b =>
        {
            int bits = b.Op(1).Size * 8;
            int roll = b.Rng.Below(100);
            if (roll < 20)
                b.Set(1, 0);
            else if (roll < 40)
                b.Set(1, 1UL << b.Rng.Below(bits));
            return true;
        },
    };

    public static Family Bswap { get; } = new()
    {
        Name = "Bswap",
        // BSWAP r16 is undefined.
        Codes = [Code.Bswap_r32, Code.Bswap_r64],
    };

    public static Family Cmovcc { get; } = new()
    {
        Name = "Cmovcc",
        Cases = 5000,
        Codes = FormCatalog.Of([M.Cmovo, M.Cmovno, M.Cmovb, M.Cmovae, M.Cmove, M.Cmovne, M.Cmovbe, M.Cmova,
            M.Cmovs, M.Cmovns, M.Cmovp, M.Cmovnp, M.Cmovl, M.Cmovge, M.Cmovle, M.Cmovg]),
    };

    public static Family Setcc { get; } = new()
    {
        Name = "Setcc",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Seto, M.Setno, M.Setb, M.Setae, M.Sete, M.Setne, M.Setbe, M.Seta,
            M.Sets, M.Setns, M.Setp, M.Setnp, M.Setl, M.Setge, M.Setle, M.Setg]),
    };

    public static Family XchgXaddCmpxchg { get; } = new()
    {
        Name = "XchgXaddCmpxchg",
        Cases = 4000,
        Codes = FormCatalog.Of([M.Xchg, M.Xadd, M.Cmpxchg]),
        Configure = b =>
        {
            b.ReservedGprs = Rax;
            b.LockChance = 0.5;
        },
        Adjust = b =>
        {
            if (b.Mnemonic == M.Cmpxchg && b.Rng.Chance(0.5))
            {
                // Make the comparison succeed half of the time.
                var acc = b.Op(0).Size switch { 1 => Register.AL, 2 => Register.AX, 4 => Register.EAX, _ => Register.RAX };
                b.SetRegister(acc, b.Get(0));
            }
            return true;
        },
    };

    public static Family Cmpxchg16b { get; } = new()
    {
        Name = "Cmpxchg8b16b",
        Codes = [Code.Cmpxchg16b_m128, Code.Cmpxchg8b_m64],
        Configure = b =>
        {
            b.ReservedGprs = Rax | Rcx | Rdx | Rbx;
            // CMPXCHG16B faults on a misaligned operand; CMPXCHG8B does not (and may cross pages).
            b.Alignment = b.Code == Code.Cmpxchg16b_m128 ? 16 : 0;
            b.LockChance = 0.5;
        },
        Adjust = b =>
        {
            if (b.Rng.Chance(0.5))
            {
                ulong addr = b.Op(0).Address;
                if (b.Code == Code.Cmpxchg16b_m128)
                {
                    b.State.Gprs[0] = b.ReadData(addr, 8);
                    b.State.Gprs[2] = b.ReadData(addr + 8, 8);
                }
                else
                {
                    b.SetRegister(Register.EAX, b.ReadData(addr, 4));
                    b.SetRegister(Register.EDX, b.ReadData(addr + 4, 4));
                }
            }
            return true;
        },
    };

    public static Family PushPop { get; } = new()
    {
        Name = "PushPopLeave",
        Codes = [Code.Push_r64, Code.Push_rm64, Code.Pushq_imm32, Code.Pushq_imm8, Code.Pop_r64, Code.Pop_rm64, Code.Leaveq],
        Configure = b => b.MemoryChance = 0.5,
        Adjust = b =>
        {
            // LEAVE reads [RBP] and leaves RSP = RBP + 8: keep both inside the window.
            if (b.Code == Code.Leaveq)
                b.State.Gprs[5] = DiffLayout.StackTop + 8 * (ulong)b.Rng.Range(0, 8);
            return true;
        },
    };

    public static Family NopsHints { get; } = new()
    {
        Name = "NopPauseEndbrPrefetchFence",
        Codes = FormCatalog.Of([M.Nop, M.Pause, M.Endbr64, M.Prefetcht0, M.Prefetcht1, M.Prefetcht2, M.Prefetchnta,
            M.Lfence, M.Mfence, M.Sfence]),
        Configure = b => b.MemoryChance = 0.5,
    };

    public static Family FlagOps { get; } = new()
    {
        Name = "LahfSahfClcStcCmcCldStd",
        Codes = FormCatalog.Of([M.Lahf, M.Sahf, M.Clc, M.Stc, M.Cmc, M.Cld, M.Std]),
    };

    public static readonly Family[] All =
    [
        MovLea, AddSub, Logic, CmpTest, IncDecNegNot, Shifts, RolRor, RclRcr, ShldShrd, MulImul, DivIdiv,
        SignExtend, BitTest, BitScan, Bswap, Cmovcc, Setcc, XchgXaddCmpxchg, Cmpxchg16b, PushPop, FlagOps, NopsHints,
    ];

    /// <summary>Shift/rotate counts: mostly 0..65 around the masking and width boundaries, sometimes any byte.</summary>
    private static bool SetCount(CaseBuilder b, int op)
    {
        var o = b.Op(op);
        if (o.Kind == OpCodeOperandKind.imm8_const_1)
            return true;
        int roll = b.Rng.Below(100);
        ulong count = roll < 65
            ? (ulong)b.Rng.Range(0, 65)
            : roll < 85
                ? (ulong)b.Rng.Pick(new[] { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65 })
                : b.Rng.Next() & 0xFF;
        b.Set(op, count);
        return true;
    }

    private static bool SetDivision(CaseBuilder b)
    {
        var rng = b.Rng;
        int bits = b.Op(0).Size * 8;
        ulong mask = Rng.Mask(bits);
        bool signed = b.Mnemonic == M.Idiv;
        ulong divisor = rng.Edge(bits);
        if (divisor == 0)
            divisor = 1 + (rng.Next() & (mask >> 1));
        b.Set(0, divisor);

        ulong lo = rng.Edge(bits), hi;
        if (!signed)
        {
            hi = rng.Below(3) switch { 0 => 0, 1 => divisor - 1, _ => rng.Next() % divisor };
        }
        else
        {
            long sd = (long)DivisionGuard.SignExtend(divisor, bits);
            ulong half = (ulong)Math.Max(1, Math.Abs(sd / 2));
            hi = rng.Below(3) switch
            {
                0 => (lo >> (bits - 1)) != 0 ? mask : 0, // dividend = sign extension of lo
                1 => rng.Next() % half,
                _ => (0 - rng.Next() % half) & mask,
            };
        }

        switch (bits)
        {
            case 8:
                b.SetRegister(Register.AX, ((hi & 0xFF) << 8) | (lo & 0xFF));
                break;
            case 16:
                b.SetRegister(Register.AX, lo);
                b.SetRegister(Register.DX, hi);
                break;
            case 32:
                b.SetRegister(Register.EAX, lo);
                b.SetRegister(Register.EDX, hi);
                break;
            default:
                b.State.Gprs[0] = lo;
                b.State.Gprs[2] = hi;
                break;
        }

        // The divisor may be AH, DL, ... and have been overwritten by the dividend: judge the final values.
        return DivisionGuard.IsSafe(b.Mnemonic, bits, b.Get(0), b.State.Gprs[0], b.State.Gprs[2]);
    }
}
