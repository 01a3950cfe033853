using System.Numerics;
using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>MXCSR bits (Intel SDM vol. 1, figure 10-3).</summary>
internal static class MxcsrBits
{
    public const uint IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20, DAZ = 0x40,
        IM = 0x80, DM = 0x100, ZM = 0x200, OM = 0x400, UM = 0x800, PM = 0x1000, RC = 0x6000, FTZ = 0x8000;

    public const uint Flags = 0x3F;

    /// <summary>Bits LDMXCSR/FXRSTOR accept (MXCSR_MASK = 0xFFFF); any other set bit is a #GP.</summary>
    public const uint Writable = 0xFFFF;

    /// <summary>Control bits 6..15 all at their defaults (all masked, round to nearest, no DAZ/FTZ): the fast paths' precondition.</summary>
    public const uint ControlMask = 0xFFC0, DefaultControl = 0x1F80;

    public const int RoundNearest = 0, RoundDown = 1, RoundUp = 2, RoundZero = 3;
}

/// <summary>
/// x86 SSE floating-point semantics on top of .NET IEEE arithmetic, generic over float and double
/// (the JIT specialises each use). .NET computes round-to-nearest results; this adds what x86 does
/// beyond that: NaN propagation (first source NaN wins, SNaN quieted, invalid gives the negative
/// "real indefinite" QNaN), MXCSR sticky flags, directed rounding, DAZ and FTZ.
/// <para>
/// Every operation has a fast path for the common case (ordinary operands and result, default
/// MXCSR controls) that only has to decide the precision flag, and skips even that once PE is
/// already set, which in practice is after the first inexact operation. Anything else (NaN,
/// infinity, denormal, zero-from-underflow, overflow, non-default controls) goes to a slow path
/// that finds the sign of the rounding error exactly, from which PE, directed rounding, underflow
/// and overflow all follow.
/// </para>
/// Flags are accumulated in <c>fl</c>; the caller merges them into MXCSR after all lanes are
/// done, so an unmasked exception can fault before any destination is written.
/// </summary>
internal static class SseFloat
{
    private const int KAdd = 0, KMul = 1, KDiv = 2, KSqrt = 3;

    // ---- bit-level helpers -------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsSNaN<T>(T x) where T : IBinaryFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            ulong b = BitConverter.DoubleToUInt64Bits(Unsafe.As<T, double>(ref x));
            return (b & 0x7FF8_0000_0000_0000) == 0x7FF0_0000_0000_0000 && (b & 0x000F_FFFF_FFFF_FFFF) != 0;
        }
        uint f = BitConverter.SingleToUInt32Bits(Unsafe.As<T, float>(ref x));
        return (f & 0x7FC0_0000) == 0x7F80_0000 && (f & 0x003F_FFFF) != 0;
    }

    /// <summary>Sets the quiet bit of a NaN, keeping sign and payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Quiet<T>(T x) where T : IBinaryFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            double d = BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(Unsafe.As<T, double>(ref x)) | 0x0008_0000_0000_0000);
            return Unsafe.As<double, T>(ref d);
        }
        float f = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(Unsafe.As<T, float>(ref x)) | 0x0040_0000);
        return Unsafe.As<float, T>(ref f);
    }

    /// <summary>The "real indefinite" QNaN x86 returns for invalid operations (sign set, unlike .NET's NaN on some hosts).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Indefinite<T>() where T : IBinaryFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            double d = BitConverter.UInt64BitsToDouble(0xFFF8_0000_0000_0000);
            return Unsafe.As<double, T>(ref d);
        }
        float f = BitConverter.UInt32BitsToSingle(0xFFC0_0000);
        return Unsafe.As<float, T>(ref f);
    }

    /// <summary>Neither NaN nor denormal: the operands the fast paths accept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Ordinary<T>(T x) where T : IBinaryFloatingPointIeee754<T> => !T.IsNaN(x) && !T.IsSubnormal(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool NormalOrZero<T>(T x) where T : IBinaryFloatingPointIeee754<T> => T.IsNormal(x) || T.IsZero(x);

    /// <summary>DAZ: a denormal source operand reads as a zero of the same sign.</summary>
    private static T Daz<T>(T x) where T : IBinaryFloatingPointIeee754<T> => T.IsSubnormal(x) ? T.CopySign(T.Zero, x) : x;

    private static int Sign<T>(T x) where T : IBinaryFloatingPointIeee754<T> => x > T.Zero ? 1 : x < T.Zero ? -1 : 0;

    // ---- arithmetic --------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Add<T>(T a, T b, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        T r = a + b;
        // Sums of normal numbers that come out normal or zero can only be inexact (a zero sum is exact).
        if ((mx & MxcsrBits.ControlMask) == MxcsrBits.DefaultControl && NormalOrZero(a) && NormalOrZero(b) && NormalOrZero(r))
        {
            if ((mx & MxcsrBits.PE) == 0 && ErrSignAdd(a, b, r) != 0) fl |= MxcsrBits.PE;
            return r;
        }
        return ArithSlow(KAdd, a, b, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sub<T>(T a, T b, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        T r = a - b;
        if ((mx & MxcsrBits.ControlMask) == MxcsrBits.DefaultControl && NormalOrZero(a) && NormalOrZero(b) && NormalOrZero(r))
        {
            if ((mx & MxcsrBits.PE) == 0 && ErrSignAdd(a, -b, r) != 0) fl |= MxcsrBits.PE;
            return r;
        }
        // Negating b is only safe once NaNs are out of the way (it would flip a propagated NaN's sign).
        return T.IsNaN(b) ? ArithSlow(KAdd, a, b, mx, ref fl) : ArithSlow(KAdd, a, -b, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Mul<T>(T a, T b, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        T r = a * b;
        if ((mx & MxcsrBits.ControlMask) == MxcsrBits.DefaultControl && NormalOrZero(a) && NormalOrZero(b)
            && (T.IsNormal(r) || (T.IsZero(r) && (T.IsZero(a) || T.IsZero(b)))))
        {
            if ((mx & MxcsrBits.PE) == 0 && !T.IsZero(r) && ErrSignMul(a, b, r) != 0) fl |= MxcsrBits.PE;
            return r;
        }
        return ArithSlow(KMul, a, b, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Div<T>(T a, T b, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        T r = a / b;
        if ((mx & MxcsrBits.ControlMask) == MxcsrBits.DefaultControl && NormalOrZero(a) && T.IsNormal(b)
            && (T.IsNormal(r) || T.IsZero(a)))
        {
            if ((mx & MxcsrBits.PE) == 0 && !T.IsZero(a) && ErrSignDiv(a, b, r) != 0) fl |= MxcsrBits.PE;
            return r;
        }
        return ArithSlow(KDiv, a, b, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sqrt<T>(T a, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        if ((mx & MxcsrBits.ControlMask) == MxcsrBits.DefaultControl && T.IsNormal(a) && a > T.Zero)
        {
            T r = T.Sqrt(a);
            if ((mx & MxcsrBits.PE) == 0 && ErrSignSqrt(a, r) != 0) fl |= MxcsrBits.PE;
            return r;
        }
        return ArithSlow(KSqrt, a, a, mx, ref fl);
    }

    /// <summary>MINSS/MINSD lane: the second operand when either is NaN or both are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Min<T>(T a, T b, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        if (Ordinary(a) && Ordinary(b)) return a < b ? a : b;
        return MinMaxSlow(false, a, b, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Max<T>(T a, T b, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        if (Ordinary(a) && Ordinary(b)) return a > b ? a : b;
        return MinMaxSlow(true, a, b, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static T MinMaxSlow<T>(bool max, T a, T b, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        if ((mx & MxcsrBits.DAZ) != 0)
        {
            a = Daz(a);
            b = Daz(b);
        }
        // MIN/MAX signal invalid on QNaNs too, and return the second operand as is (an SNaN stays signalling).
        if (T.IsNaN(a) || T.IsNaN(b))
        {
            fl |= MxcsrBits.IE;
            return b;
        }
        if (T.IsSubnormal(a) || T.IsSubnormal(b)) fl |= MxcsrBits.DE;
        return max ? (a > b ? a : b) : (a < b ? a : b);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static T ArithSlow<T>(int kind, T a, T b, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        if ((mx & MxcsrBits.DAZ) != 0)
        {
            a = Daz(a);
            b = Daz(b);
        }
        if (T.IsNaN(a) || T.IsNaN(b))
        {
            if (IsSNaN(a) || IsSNaN(b)) fl |= MxcsrBits.IE;
            return T.IsNaN(a) ? Quiet(a) : Quiet(b);
        }

        uint f = T.IsSubnormal(a) || T.IsSubnormal(b) ? MxcsrBits.DE : 0;
        T r = kind switch
        {
            KAdd => a + b,
            KMul => a * b,
            KDiv => a / b,
            _ => T.Sqrt(a),
        };
        if (T.IsNaN(r))
        {
            // inf - inf, 0 * inf, 0 / 0, inf / inf, sqrt of a negative number.
            fl |= MxcsrBits.IE;
            return Indefinite<T>();
        }
        if (kind == KDiv && T.IsZero(b) && T.IsFinite(a))
        {
            fl |= MxcsrBits.ZE;
            return r;
        }

        int rc = (int)(mx >> 13) & 3;
        bool anyInfinite = T.IsInfinity(a) || T.IsInfinity(b);
        bool anyZero = T.IsZero(a) || (kind != KSqrt && T.IsZero(b));
        if (anyInfinite || anyZero)
        {
            // Exact: infinities and zeros in, infinities and zeros (or the other operand) out.
            if (kind == KAdd && rc == MxcsrBits.RoundDown && T.IsZero(r) && !(T.IsPositive(a) && T.IsPositive(b)))
                r = T.NegativeZero; // x + (-x) and (+0) + (-0) are -0 when rounding down
            fl |= f;
            return TinyExact(r, mx, ref fl); // denormal + 0 is still flushed by FTZ
        }

        int s;
        if (T.IsInfinity(r))
        {
            s = T.IsNegative(r) ? 1 : -1;
        }
        else
        {
            s = kind switch
            {
                KAdd => ErrSignAdd(a, b, r),
                KMul => ErrSignMul(a, b, r),
                KDiv => ErrSignDiv(a, b, r),
                _ => ErrSignSqrt(a, r),
            };
            if (kind == KAdd && s == 0 && T.IsZero(r) && rc == MxcsrBits.RoundDown) r = T.NegativeZero;
        }
        fl |= f;
        return Round(r, s, mx, ref fl);
    }

    // ---- rounding-error signs ------------------------------------------------------------
    // Each returns the sign of (exact result - r), where r is the round-to-nearest result of finite,
    // nonzero operands and is itself finite. Operands are scaled to [1, 4) first so that the error
    // terms computed with FMA are exact even when the true result is tiny.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ErrSignAdd<T>(T a, T b, T r) where T : IBinaryFloatingPointIeee754<T>
    {
        // TwoSum (Knuth): exact error of a round-to-nearest sum, valid down to subnormals.
        T bv = r - a;
        T av = r - bv;
        T e = (a - av) + (b - bv);
        return Sign(e);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ErrSignMul<T>(T a, T b, T r) where T : IBinaryFloatingPointIeee754<T>
    {
        int na = T.ILogB(a), nb = T.ILogB(b);
        T a1 = T.ScaleB(a, -na), b1 = T.ScaleB(b, -nb);
        T p = a1 * b1;
        T res = T.FusedMultiplyAdd(a1, b1, -p);
        T rs = T.ScaleB(r, -(na + nb));
        // rs differs from p only when r lost bits to the subnormal range; p is then the closer value.
        if (rs != p) return rs < p ? 1 : -1;
        return Sign(res);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ErrSignDiv<T>(T a, T b, T r) where T : IBinaryFloatingPointIeee754<T>
    {
        int na = T.ILogB(a), nb = T.ILogB(b);
        T a1 = T.ScaleB(a, -na), b1 = T.ScaleB(b, -nb);
        T q = a1 / b1;
        T res = T.FusedMultiplyAdd(-q, b1, a1); // = b1 * (a1 / b1 - q), exactly
        T rs = T.ScaleB(r, nb - na);
        if (rs != q) return rs < q ? 1 : -1;
        return Sign(res) * Sign(b1);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ErrSignSqrt<T>(T a, T r) where T : IBinaryFloatingPointIeee754<T>
    {
        int n = T.ILogB(a) & ~1;
        T a1 = T.ScaleB(a, -n);
        T q = T.Sqrt(a1);
        T res = T.FusedMultiplyAdd(-q, q, a1);
        T rs = T.ScaleB(r, -(n >> 1));
        if (rs != q) return rs < q ? 1 : -1;
        return Sign(res);
    }

    /// <summary>
    /// Post-computation: given the round-to-nearest result <paramref name="r"/> (±infinity on
    /// overflow) and the sign <paramref name="s"/> of (exact - r), applies MXCSR.RC and FTZ and
    /// raises PE, OE and UE as x86 does (tininess after rounding).
    /// </summary>
    private static T Round<T>(T r, int s, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        if (s == 0) return TinyExact(r, mx, ref fl);
        uint f = MxcsrBits.PE;
        if (T.IsInfinity(r)) f |= MxcsrBits.OE;
        int rc = (int)(mx >> 13) & 3;
        if (rc != MxcsrBits.RoundNearest)
        {
            // The directed result is r or its neighbour towards the exact value: step when r is on
            // the wrong side for the mode (above the exact value when rounding down, and so on).
            bool step = rc switch
            {
                MxcsrBits.RoundDown => s < 0,
                MxcsrBits.RoundUp => s > 0,
                _ => T.IsNegative(r) ? s > 0 : s < 0,
            };
            if (step)
            {
                r = s < 0 ? T.BitDecrement(r) : T.BitIncrement(r);
                if (T.IsInfinity(r)) f |= MxcsrBits.OE;
            }
        }
        if (T.IsSubnormal(r) || T.IsZero(r))
        {
            f |= MxcsrBits.UE;
            if ((mx & (MxcsrBits.FTZ | MxcsrBits.UM)) == (MxcsrBits.FTZ | MxcsrBits.UM)) r = T.CopySign(T.Zero, r);
        }
        fl |= f;
        return r;
    }

    /// <summary>An exact result: only FTZ (and an unmasked underflow) care whether it is tiny.</summary>
    private static T TinyExact<T>(T r, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        if (T.IsSubnormal(r))
        {
            if ((mx & MxcsrBits.UM) == 0)
            {
                fl |= MxcsrBits.UE;
            }
            else if ((mx & MxcsrBits.FTZ) != 0)
            {
                fl |= MxcsrBits.UE | MxcsrBits.PE;
                r = T.CopySign(T.Zero, r);
            }
        }
        return r;
    }

    // ---- comparisons ---------------------------------------------------------------------

    /// <summary>
    /// Flags for a comparison lane: IE for an SNaN (or any NaN when <paramref name="signaling"/>:
    /// COMIS*, CMP LT/LE/NLT/NLE), else DE for a denormal. Returns the operands as compared (DAZ applied).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CompareFlags<T>(ref T a, ref T b, bool signaling, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        if (Ordinary(a) && Ordinary(b)) return;
        CompareFlagsSlow(ref a, ref b, signaling, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CompareFlagsSlow<T>(ref T a, ref T b, bool signaling, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        if ((mx & MxcsrBits.DAZ) != 0)
        {
            a = Daz(a);
            b = Daz(b);
        }
        if (T.IsNaN(a) || T.IsNaN(b))
        {
            if (signaling || IsSNaN(a) || IsSNaN(b)) fl |= MxcsrBits.IE;
            return;
        }
        if (T.IsSubnormal(a) || T.IsSubnormal(b)) fl |= MxcsrBits.DE;
    }

    // ---- conversions ---------------------------------------------------------------------

    /// <summary>Rounds to an integral value per MXCSR.RC (or truncates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double RoundIntegral(double v, int rc) => rc switch
    {
        MxcsrBits.RoundNearest => Math.Round(v, MidpointRounding.ToEven),
        MxcsrBits.RoundDown => Math.Floor(v),
        MxcsrBits.RoundUp => Math.Ceiling(v),
        _ => Math.Truncate(v),
    };

    /// <summary>CVT(T)SD2SI/CVT(T)SS2SI/CVT(T)P*2DQ to 32 bits: NaN and out of range give the integer indefinite 0x80000000.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ToInt32(double v, bool truncate, uint mx, ref uint fl)
    {
        if ((mx & MxcsrBits.DAZ) != 0 && double.IsSubnormal(v)) v = 0;
        double t = truncate ? Math.Truncate(v) : RoundIntegral(v, (int)(mx >> 13) & 3);
        // The negated test also catches NaN.
        if (!(t >= -2147483648.0 && t <= 2147483647.0))
        {
            fl |= MxcsrBits.IE;
            return int.MinValue;
        }
        if (t != v) fl |= MxcsrBits.PE;
        return (int)t;
    }

    /// <summary>Single-precision source: DAZ must look at the float, which is normal once widened.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ToInt32(float v, bool truncate, uint mx, ref uint fl)
    {
        if ((mx & MxcsrBits.DAZ) != 0) v = Daz(v);
        return ToInt32((double)v, truncate, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ToInt64(float v, bool truncate, uint mx, ref uint fl)
    {
        if ((mx & MxcsrBits.DAZ) != 0) v = Daz(v);
        return ToInt64((double)v, truncate, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ToInt64(double v, bool truncate, uint mx, ref uint fl)
    {
        if ((mx & MxcsrBits.DAZ) != 0 && double.IsSubnormal(v)) v = 0;
        double t = truncate ? Math.Truncate(v) : RoundIntegral(v, (int)(mx >> 13) & 3);
        if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
        {
            fl |= MxcsrBits.IE;
            return long.MinValue;
        }
        if (t != v) fl |= MxcsrBits.PE;
        return (long)t;
    }

    /// <summary>CVTSI2SD/CVTSI2SS/CVTDQ2PS lane: an integer to T, rounded per MXCSR.RC.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromInt64<T>(long v, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        T r = T.CreateTruncating(v); // round to nearest for the conversions we use
        if ((mx & (MxcsrBits.PE | MxcsrBits.PM | MxcsrBits.RC)) == (MxcsrBits.PE | MxcsrBits.PM)) return r;
        return FromInt64Slow(v, r, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static T FromInt64Slow<T>(long v, T r, uint mx, ref uint fl) where T : IBinaryFloatingPointIeee754<T>
    {
        Int128 diff = v - Int128.CreateTruncating(r);
        int s = diff > 0 ? 1 : diff < 0 ? -1 : 0;
        return s == 0 ? r : Round(r, s, mx, ref fl);
    }

    /// <summary>CVTSD2SS/CVTPD2PS lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(double a, uint mx, ref uint fl)
    {
        float r = (float)a;
        if ((mx & MxcsrBits.ControlMask) == MxcsrBits.DefaultControl && double.IsNormal(a) && float.IsNormal(r))
        {
            if ((mx & MxcsrBits.PE) == 0 && (double)r != a) fl |= MxcsrBits.PE;
            return r;
        }
        return ToSingleSlow(a, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float ToSingleSlow(double a, uint mx, ref uint fl)
    {
        if ((mx & MxcsrBits.DAZ) != 0) a = Daz(a);
        if (double.IsNaN(a))
        {
            if (IsSNaN(a)) fl |= MxcsrBits.IE;
            // Quieted, with the payload's top 22 bits kept (SDM: the NaN is converted, not replaced).
            ulong bits = BitConverter.DoubleToUInt64Bits(a);
            uint f = (uint)(bits >> 32) & 0x8000_0000 | 0x7FC0_0000 | (uint)(bits >> 29) & 0x003F_FFFF;
            return BitConverter.UInt32BitsToSingle(f);
        }
        if (double.IsSubnormal(a)) fl |= MxcsrBits.DE;
        float r = (float)a;
        if (double.IsInfinity(a) || a == 0) return r;
        int s = float.IsInfinity(r) ? (r > 0 ? -1 : 1) : Math.Sign(a - (double)r);
        return Round(r, s, mx, ref fl);
    }

    /// <summary>CVTSS2SD/CVTPS2PD lane: exact apart from NaNs and denormal operands.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble(float a, uint mx, ref uint fl)
    {
        if (Ordinary(a)) return a;
        return ToDoubleSlow(a, mx, ref fl);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double ToDoubleSlow(float a, uint mx, ref uint fl)
    {
        if (float.IsNaN(a))
        {
            if (IsSNaN(a)) fl |= MxcsrBits.IE;
            uint bits = BitConverter.SingleToUInt32Bits(a);
            ulong d = ((ulong)(bits & 0x8000_0000) << 32) | 0x7FF8_0000_0000_0000 | ((ulong)(bits & 0x003F_FFFF) << 29);
            return BitConverter.UInt64BitsToDouble(d);
        }
        if ((mx & MxcsrBits.DAZ) != 0) return Daz(a);
        fl |= MxcsrBits.DE;
        return a;
    }

    // ---- approximations (RCPPS/RSQRTPS): no MXCSR flags, computed exactly ----------------------

    /// <summary>Reciprocal; denormal inputs act as zero and tiny results flush to zero, as the hardware approximation does.</summary>
    public static float Reciprocal(float a)
    {
        if (float.IsNaN(a)) return Quiet(a);
        if (float.IsSubnormal(a) || a == 0) return float.CopySign(float.PositiveInfinity, a);
        float r = 1.0f / a;
        return float.IsSubnormal(r) ? float.CopySign(0f, a) : r;
    }

    public static float ReciprocalSqrt(float a)
    {
        if (float.IsNaN(a)) return Quiet(a);
        if (float.IsSubnormal(a) || a == 0) return float.CopySign(float.PositiveInfinity, a);
        if (a < 0) return Indefinite<float>();
        return (float)(1.0 / Math.Sqrt(a));
    }
}
