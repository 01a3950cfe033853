using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// DIV/IDIV raise #DE for a zero divisor or a quotient that does not fit; on the host that is a
/// SIGFPE in unmanaged code, which ends the test process. Every division case passes through here.
/// </summary>
internal static class DivisionGuard
{
    /// <summary>True when the division in <paramref name="c"/> completes without #DE.</summary>
    public static bool IsSafe(DiffCase c)
    {
        var ins = c.Instruction;
        return IsSafe(ins.Mnemonic, DefinedOutputs.DestinationBits(ins), DefinedOutputs.SourceValue(c, 0), c.Input.Gprs[0], c.Input.Gprs[2]);
    }

    public static bool IsSafe(Mnemonic mnemonic, int bits, ulong divisor, ulong rax, ulong rdx)
    {
        divisor &= Rng.Mask(bits);
        if (divisor == 0)
            return false;
        UInt128 dividend = bits switch
        {
            8 => rax & 0xFFFF,
            16 => ((rdx & 0xFFFF) << 16) | (rax & 0xFFFF),
            32 => ((rdx & 0xFFFF_FFFF) << 32) | (rax & 0xFFFF_FFFF),
            _ => ((UInt128)rdx << 64) | rax,
        };
        if (mnemonic == Mnemonic.Div)
            return dividend / divisor <= Rng.Mask(bits);

        // Sign-extend both to 128 bits and check the truncated quotient's range.
        Int128 sDividend = bits == 64 ? (Int128)dividend : (Int128)(long)SignExtend((ulong)dividend, bits * 2);
        Int128 sDivisor = (long)SignExtend(divisor, bits);
        Int128 q = sDividend / sDivisor;
        Int128 max = (Int128.One << (bits - 1)) - 1;
        Int128 min = -(Int128.One << (bits - 1));
        return q >= min && q <= max;
    }

    public static void Check(DiffCase c)
    {
        if (!IsSafe(c))
            throw new InvalidOperationException($"generator bug: {c.Instruction} would raise #DE on the host");
    }

    public static ulong SignExtend(ulong v, int bits) =>
        bits >= 64 ? v : (ulong)((long)(v << (64 - bits)) >> (64 - bits));
}
