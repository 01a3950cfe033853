using System.Numerics;
using System.Runtime.Intrinsics;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>A floating-point lane operation, for both precisions: destination lane, source lane.</summary>
internal interface IFpOp
{
    static abstract double Apply(double d, double s, uint mx, ref uint fl);

    static abstract float Apply(float d, float s, uint mx, ref uint fl);
}

/// <summary>A CMPPS/CMPPD/CMPSS/CMPSD predicate (imm8[2:0]).</summary>
internal interface ICmpPredicate
{
    /// <summary>LT, LE, NLT, NLE signal invalid on QNaNs; the others only on SNaNs.</summary>
    static abstract bool Signaling { get; }

    static abstract bool Test<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T>;
}

/// <summary>
/// SSE/SSE2 floating-point handlers: arithmetic in the four shapes (PS, PD, SS, SD), compares,
/// COMIS/UCOMIS and conversions. All lanes are computed before any is written so that an unmasked
/// exception faults with the destination intact (<see cref="SseCore.Raise"/>).
/// </summary>
internal static unsafe class SseFp
{
    // ---- arithmetic shapes -----------------------------------------------------------------

    public static int Ss<TOp, TSrc>(Cpu c, Op* op) where TOp : IFpOp where TSrc : IXmmSource
    {
        SseCore.Check(c);
        float s = BitConverter.UInt32BitsToSingle(TSrc.D(c, op));
        float* d = (float*)(c.Xmm + 2 * op->R1);
        uint fl = 0;
        float r = TOp.Apply(d[0], s, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        d[0] = r;
        return Handler.Continue;
    }

    public static int Sd<TOp, TSrc>(Cpu c, Op* op) where TOp : IFpOp where TSrc : IXmmSource
    {
        SseCore.Check(c);
        double s = BitConverter.UInt64BitsToDouble(TSrc.Q(c, op));
        double* d = (double*)(c.Xmm + 2 * op->R1);
        uint fl = 0;
        double r = TOp.Apply(d[0], s, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        d[0] = r;
        return Handler.Continue;
    }

    public static int Ps<TOp, TSrc>(Cpu c, Op* op) where TOp : IFpOp where TSrc : IXmmSource
    {
        SseCore.Check(c);
        Vector128<float> s = TSrc.V128(c, op).AsSingle();
        float* d = (float*)(c.Xmm + 2 * op->R1);
        uint mx = c.Mxcsr, fl = 0;
        float r0 = TOp.Apply(d[0], s.GetElement(0), mx, ref fl);
        float r1 = TOp.Apply(d[1], s.GetElement(1), mx, ref fl);
        float r2 = TOp.Apply(d[2], s.GetElement(2), mx, ref fl);
        float r3 = TOp.Apply(d[3], s.GetElement(3), mx, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        d[0] = r0;
        d[1] = r1;
        d[2] = r2;
        d[3] = r3;
        return Handler.Continue;
    }

    public static int Pd<TOp, TSrc>(Cpu c, Op* op) where TOp : IFpOp where TSrc : IXmmSource
    {
        SseCore.Check(c);
        Vector128<double> s = TSrc.V128(c, op).AsDouble();
        double* d = (double*)(c.Xmm + 2 * op->R1);
        uint mx = c.Mxcsr, fl = 0;
        double r0 = TOp.Apply(d[0], s.GetElement(0), mx, ref fl);
        double r1 = TOp.Apply(d[1], s.GetElement(1), mx, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        d[0] = r0;
        d[1] = r1;
        return Handler.Continue;
    }

    // ---- compares ----------------------------------------------------------------------------

    private static uint Mask32<TP>(float a, float b, uint mx, ref uint fl) where TP : ICmpPredicate
    {
        SseFloat.CompareFlags(ref a, ref b, TP.Signaling, mx, ref fl);
        return TP.Test(a, b) ? uint.MaxValue : 0;
    }

    private static ulong Mask64<TP>(double a, double b, uint mx, ref uint fl) where TP : ICmpPredicate
    {
        SseFloat.CompareFlags(ref a, ref b, TP.Signaling, mx, ref fl);
        return TP.Test(a, b) ? ulong.MaxValue : 0;
    }

    public static int CmpSs<TP, TSrc>(Cpu c, Op* op) where TP : ICmpPredicate where TSrc : IXmmSource
    {
        SseCore.Check(c);
        float s = BitConverter.UInt32BitsToSingle(TSrc.D(c, op));
        uint* d = (uint*)(c.Xmm + 2 * op->R1);
        uint fl = 0;
        uint r = Mask32<TP>(BitConverter.UInt32BitsToSingle(d[0]), s, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        d[0] = r;
        return Handler.Continue;
    }

    public static int CmpSd<TP, TSrc>(Cpu c, Op* op) where TP : ICmpPredicate where TSrc : IXmmSource
    {
        SseCore.Check(c);
        double s = BitConverter.UInt64BitsToDouble(TSrc.Q(c, op));
        ulong* d = c.Xmm + 2 * op->R1;
        uint fl = 0;
        ulong r = Mask64<TP>(BitConverter.UInt64BitsToDouble(d[0]), s, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        d[0] = r;
        return Handler.Continue;
    }

    public static int CmpPs<TP, TSrc>(Cpu c, Op* op) where TP : ICmpPredicate where TSrc : IXmmSource
    {
        SseCore.Check(c);
        Vector128<float> s = TSrc.V128(c, op).AsSingle();
        Vector128<byte>* dp = SseCore.X(c, op->R1);
        Vector128<float> d = dp->AsSingle();
        uint mx = c.Mxcsr, fl = 0;
        var r = Vector128.Create(
            Mask32<TP>(d.GetElement(0), s.GetElement(0), mx, ref fl),
            Mask32<TP>(d.GetElement(1), s.GetElement(1), mx, ref fl),
            Mask32<TP>(d.GetElement(2), s.GetElement(2), mx, ref fl),
            Mask32<TP>(d.GetElement(3), s.GetElement(3), mx, ref fl));
        if (fl != 0) SseCore.Raise(c, fl);
        *dp = r.AsByte();
        return Handler.Continue;
    }

    public static int CmpPd<TP, TSrc>(Cpu c, Op* op) where TP : ICmpPredicate where TSrc : IXmmSource
    {
        SseCore.Check(c);
        Vector128<double> s = TSrc.V128(c, op).AsDouble();
        Vector128<byte>* dp = SseCore.X(c, op->R1);
        Vector128<double> d = dp->AsDouble();
        uint mx = c.Mxcsr, fl = 0;
        var r = Vector128.Create(
            Mask64<TP>(d.GetElement(0), s.GetElement(0), mx, ref fl),
            Mask64<TP>(d.GetElement(1), s.GetElement(1), mx, ref fl));
        if (fl != 0) SseCore.Raise(c, fl);
        *dp = r.AsByte();
        return Handler.Continue;
    }

    /// <summary>ZF, PF, CF from an ordered compare: unordered 111, less 001, equal 100, greater 000; OF, SF, AF cleared.</summary>
    private static ulong CompareEflags<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T>
    {
        if (a < b) return RflagsBits.CF;
        if (a > b) return 0;
        if (a == b) return RflagsBits.ZF;
        return RflagsBits.ZF | RflagsBits.PF | RflagsBits.CF;
    }

    /// <summary>COMISD (<typeparamref name="TSignaling"/> = Yes: any NaN is invalid) and UCOMISD (only SNaNs are).</summary>
    public static int ComiSd<TSignaling, TSrc>(Cpu c, Op* op) where TSignaling : IFlag where TSrc : IXmmSource
    {
        SseCore.Check(c);
        double b = BitConverter.UInt64BitsToDouble(TSrc.Q(c, op));
        double a = BitConverter.UInt64BitsToDouble(c.Xmm[2 * op->R1]);
        uint fl = 0;
        SseFloat.CompareFlags(ref a, ref b, TSignaling.Value, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        c.SetArithmeticFlags(CompareEflags(a, b));
        return Handler.Continue;
    }

    public static int ComiSs<TSignaling, TSrc>(Cpu c, Op* op) where TSignaling : IFlag where TSrc : IXmmSource
    {
        SseCore.Check(c);
        float b = BitConverter.UInt32BitsToSingle(TSrc.D(c, op));
        float a = BitConverter.UInt32BitsToSingle((uint)c.Xmm[2 * op->R1]);
        uint fl = 0;
        SseFloat.CompareFlags(ref a, ref b, TSignaling.Value, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        c.SetArithmeticFlags(CompareEflags(a, b));
        return Handler.Continue;
    }

    // ---- conversions: integer to floating point -------------------------------------------------

    /// <summary>CVTSI2SD xmm, r/m32 or r/m64: the low double; the high quadword is kept.</summary>
    public static int CvtSi2Sd<TInt>(Cpu c, Op* op) where TInt : IIntSource
    {
        SseCore.Check(c);
        long v = TInt.Get(c, op);
        uint fl = 0;
        double r = SseFloat.FromInt64<double>(v, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        *(double*)(c.Xmm + 2 * op->R1) = r;
        return Handler.Continue;
    }

    /// <summary>CVTSI2SS xmm, r/m32 or r/m64: the low float; bits 32..127 are kept.</summary>
    public static int CvtSi2Ss<TInt>(Cpu c, Op* op) where TInt : IIntSource
    {
        SseCore.Check(c);
        long v = TInt.Get(c, op);
        uint fl = 0;
        float r = SseFloat.FromInt64<float>(v, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        *(float*)(c.Xmm + 2 * op->R1) = r;
        return Handler.Continue;
    }

    /// <summary>CVTDQ2PD xmm, xmm/m64: exact.</summary>
    public static int CvtDq2Pd<TSrc>(Cpu c, Op* op) where TSrc : IXmmSource
    {
        SseCore.Check(c);
        ulong v = TSrc.Q(c, op);
        double* d = (double*)(c.Xmm + 2 * op->R1);
        d[0] = (int)(uint)v;
        d[1] = (int)(uint)(v >> 32);
        return Handler.Continue;
    }

    public static int CvtDq2Ps<TSrc>(Cpu c, Op* op) where TSrc : IXmmSource
    {
        SseCore.Check(c);
        Vector128<int> s = TSrc.V128(c, op).AsInt32();
        uint mx = c.Mxcsr, fl = 0;
        var r = Vector128.Create(
            SseFloat.FromInt64<float>(s.GetElement(0), mx, ref fl),
            SseFloat.FromInt64<float>(s.GetElement(1), mx, ref fl),
            SseFloat.FromInt64<float>(s.GetElement(2), mx, ref fl),
            SseFloat.FromInt64<float>(s.GetElement(3), mx, ref fl));
        if (fl != 0) SseCore.Raise(c, fl);
        *SseCore.X(c, op->R1) = r.AsByte();
        return Handler.Continue;
    }

    // ---- conversions: floating point to integer --------------------------------------------------

    /// <summary>CVTSD2SI/CVTTSD2SI r32/r64, xmm/m64 (<typeparamref name="TTruncate"/>: the T form; else MXCSR.RC).</summary>
    public static int CvtSd2Si<TSrc, TWide, TTruncate>(Cpu c, Op* op) where TSrc : IXmmSource where TWide : IFlag where TTruncate : IFlag
    {
        SseCore.Check(c);
        double v = BitConverter.UInt64BitsToDouble(TSrc.Q(c, op));
        uint fl = 0;
        ulong r = TWide.Value
            ? (ulong)SseFloat.ToInt64(v, TTruncate.Value, c.Mxcsr, ref fl)
            : (uint)SseFloat.ToInt32(v, TTruncate.Value, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        c.Regs[op->R1] = r;
        return Handler.Continue;
    }

    public static int CvtSs2Si<TSrc, TWide, TTruncate>(Cpu c, Op* op) where TSrc : IXmmSource where TWide : IFlag where TTruncate : IFlag
    {
        SseCore.Check(c);
        float v = BitConverter.UInt32BitsToSingle(TSrc.D(c, op));
        uint fl = 0;
        ulong r = TWide.Value
            ? (ulong)SseFloat.ToInt64(v, TTruncate.Value, c.Mxcsr, ref fl)
            : (uint)SseFloat.ToInt32(v, TTruncate.Value, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        c.Regs[op->R1] = r;
        return Handler.Continue;
    }

    /// <summary>CVTPS2DQ/CVTTPS2DQ: four floats to four dwords.</summary>
    public static int CvtPs2Dq<TSrc, TTruncate>(Cpu c, Op* op) where TSrc : IXmmSource where TTruncate : IFlag
    {
        SseCore.Check(c);
        Vector128<float> s = TSrc.V128(c, op).AsSingle();
        uint mx = c.Mxcsr, fl = 0;
        bool t = TTruncate.Value;
        var r = Vector128.Create(
            SseFloat.ToInt32(s.GetElement(0), t, mx, ref fl),
            SseFloat.ToInt32(s.GetElement(1), t, mx, ref fl),
            SseFloat.ToInt32(s.GetElement(2), t, mx, ref fl),
            SseFloat.ToInt32(s.GetElement(3), t, mx, ref fl));
        if (fl != 0) SseCore.Raise(c, fl);
        *SseCore.X(c, op->R1) = r.AsByte();
        return Handler.Continue;
    }

    /// <summary>CVTPD2DQ/CVTTPD2DQ: two doubles to the low two dwords; the high quadword is zeroed.</summary>
    public static int CvtPd2Dq<TSrc, TTruncate>(Cpu c, Op* op) where TSrc : IXmmSource where TTruncate : IFlag
    {
        SseCore.Check(c);
        Vector128<double> s = TSrc.V128(c, op).AsDouble();
        uint mx = c.Mxcsr, fl = 0;
        bool t = TTruncate.Value;
        uint r0 = (uint)SseFloat.ToInt32(s.GetElement(0), t, mx, ref fl);
        uint r1 = (uint)SseFloat.ToInt32(s.GetElement(1), t, mx, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        ulong* d = c.Xmm + 2 * op->R1;
        d[0] = r0 | ((ulong)r1 << 32);
        d[1] = 0;
        return Handler.Continue;
    }

    // ---- conversions between precisions ---------------------------------------------------------

    /// <summary>CVTSD2SS: the low float; bits 32..127 are kept.</summary>
    public static int CvtSd2Ss<TSrc>(Cpu c, Op* op) where TSrc : IXmmSource
    {
        SseCore.Check(c);
        double v = BitConverter.UInt64BitsToDouble(TSrc.Q(c, op));
        uint fl = 0;
        float r = SseFloat.ToSingle(v, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        *(float*)(c.Xmm + 2 * op->R1) = r;
        return Handler.Continue;
    }

    /// <summary>CVTSS2SD: the low double; the high quadword is kept.</summary>
    public static int CvtSs2Sd<TSrc>(Cpu c, Op* op) where TSrc : IXmmSource
    {
        SseCore.Check(c);
        float v = BitConverter.UInt32BitsToSingle(TSrc.D(c, op));
        uint fl = 0;
        double r = SseFloat.ToDouble(v, c.Mxcsr, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        *(double*)(c.Xmm + 2 * op->R1) = r;
        return Handler.Continue;
    }

    /// <summary>CVTPS2PD xmm, xmm/m64: the two low floats.</summary>
    public static int CvtPs2Pd<TSrc>(Cpu c, Op* op) where TSrc : IXmmSource
    {
        SseCore.Check(c);
        ulong v = TSrc.Q(c, op);
        uint mx = c.Mxcsr, fl = 0;
        double r0 = SseFloat.ToDouble(BitConverter.UInt32BitsToSingle((uint)v), mx, ref fl);
        double r1 = SseFloat.ToDouble(BitConverter.UInt32BitsToSingle((uint)(v >> 32)), mx, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        double* d = (double*)(c.Xmm + 2 * op->R1);
        d[0] = r0;
        d[1] = r1;
        return Handler.Continue;
    }

    /// <summary>CVTPD2PS: two floats in the low quadword; the high quadword is zeroed.</summary>
    public static int CvtPd2Ps<TSrc>(Cpu c, Op* op) where TSrc : IXmmSource
    {
        SseCore.Check(c);
        Vector128<double> s = TSrc.V128(c, op).AsDouble();
        uint mx = c.Mxcsr, fl = 0;
        float r0 = SseFloat.ToSingle(s.GetElement(0), mx, ref fl);
        float r1 = SseFloat.ToSingle(s.GetElement(1), mx, ref fl);
        if (fl != 0) SseCore.Raise(c, fl);
        ulong* d = c.Xmm + 2 * op->R1;
        d[0] = BitConverter.SingleToUInt32Bits(r0) | ((ulong)BitConverter.SingleToUInt32Bits(r1) << 32);
        d[1] = 0;
        return Handler.Continue;
    }
}

// ---- lane operations ------------------------------------------------------------------------------

internal readonly struct FAdd : IFpOp
{
    public static double Apply(double d, double s, uint mx, ref uint fl) => SseFloat.Add(d, s, mx, ref fl);

    public static float Apply(float d, float s, uint mx, ref uint fl) => SseFloat.Add(d, s, mx, ref fl);
}

internal readonly struct FSub : IFpOp
{
    public static double Apply(double d, double s, uint mx, ref uint fl) => SseFloat.Sub(d, s, mx, ref fl);

    public static float Apply(float d, float s, uint mx, ref uint fl) => SseFloat.Sub(d, s, mx, ref fl);
}

internal readonly struct FMul : IFpOp
{
    public static double Apply(double d, double s, uint mx, ref uint fl) => SseFloat.Mul(d, s, mx, ref fl);

    public static float Apply(float d, float s, uint mx, ref uint fl) => SseFloat.Mul(d, s, mx, ref fl);
}

internal readonly struct FDiv : IFpOp
{
    public static double Apply(double d, double s, uint mx, ref uint fl) => SseFloat.Div(d, s, mx, ref fl);

    public static float Apply(float d, float s, uint mx, ref uint fl) => SseFloat.Div(d, s, mx, ref fl);
}

internal readonly struct FMin : IFpOp
{
    public static double Apply(double d, double s, uint mx, ref uint fl) => SseFloat.Min(d, s, mx, ref fl);

    public static float Apply(float d, float s, uint mx, ref uint fl) => SseFloat.Min(d, s, mx, ref fl);
}

internal readonly struct FMax : IFpOp
{
    public static double Apply(double d, double s, uint mx, ref uint fl) => SseFloat.Max(d, s, mx, ref fl);

    public static float Apply(float d, float s, uint mx, ref uint fl) => SseFloat.Max(d, s, mx, ref fl);
}

/// <summary>Unary: the destination lane is ignored (SQRTSS keeps the rest of the destination).</summary>
internal readonly struct FSqrt : IFpOp
{
    public static double Apply(double d, double s, uint mx, ref uint fl) => SseFloat.Sqrt(s, mx, ref fl);

    public static float Apply(float d, float s, uint mx, ref uint fl) => SseFloat.Sqrt(s, mx, ref fl);
}

/// <summary>RCPPS/RCPSS (single precision only; the double overload is never instantiated by the translator).</summary>
internal readonly struct FRcp : IFpOp
{
    public static double Apply(double d, double s, uint mx, ref uint fl) => 1.0 / s;

    public static float Apply(float d, float s, uint mx, ref uint fl) => SseFloat.Reciprocal(s);
}

internal readonly struct FRsqrt : IFpOp
{
    public static double Apply(double d, double s, uint mx, ref uint fl) => 1.0 / Math.Sqrt(s);

    public static float Apply(float d, float s, uint mx, ref uint fl) => SseFloat.ReciprocalSqrt(s);
}

// ---- compare predicates -----------------------------------------------------------------------------

internal readonly struct CmpEq : ICmpPredicate
{
    public static bool Signaling => false;

    public static bool Test<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T> => a == b;
}

internal readonly struct CmpLt : ICmpPredicate
{
    public static bool Signaling => true;

    public static bool Test<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T> => a < b;
}

internal readonly struct CmpLe : ICmpPredicate
{
    public static bool Signaling => true;

    public static bool Test<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T> => a <= b;
}

internal readonly struct CmpUnord : ICmpPredicate
{
    public static bool Signaling => false;

    public static bool Test<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T> => T.IsNaN(a) || T.IsNaN(b);
}

internal readonly struct CmpNeq : ICmpPredicate
{
    public static bool Signaling => false;

    public static bool Test<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T> => !(a == b);
}

internal readonly struct CmpNlt : ICmpPredicate
{
    public static bool Signaling => true;

    public static bool Test<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T> => !(a < b);
}

internal readonly struct CmpNle : ICmpPredicate
{
    public static bool Signaling => true;

    public static bool Test<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T> => !(a <= b);
}

internal readonly struct CmpOrd : ICmpPredicate
{
    public static bool Signaling => false;

    public static bool Test<T>(T a, T b) where T : IBinaryFloatingPointIeee754<T> => !T.IsNaN(a) && !T.IsNaN(b);
}

// ---- integer sources for CVTSI2SD/CVTSI2SS -------------------------------------------------------------

/// <summary>The signed integer operand 1 of CVTSI2SS/SD: a 32- or 64-bit register (R2) or memory.</summary>
internal unsafe interface IIntSource
{
    static abstract long Get(Cpu c, Op* op);
}

internal readonly unsafe struct Gpr32 : IIntSource
{
    public static long Get(Cpu c, Op* op) => (int)c.Regs[op->R2];
}

internal readonly unsafe struct Gpr64 : IIntSource
{
    public static long Get(Cpu c, Op* op) => (long)c.Regs[op->R2];
}

internal readonly unsafe struct Mem32 : IIntSource
{
    public static long Get(Cpu c, Op* op) => (int)c.Read32(Handler.Ea(c, op));
}

internal readonly unsafe struct Mem64 : IIntSource
{
    public static long Get(Cpu c, Op* op) => (long)c.Read64(Handler.Ea(c, op));
}
