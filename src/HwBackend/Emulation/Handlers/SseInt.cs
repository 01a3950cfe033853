using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>A two-operand 128-bit operation: destination = f(destination, source).</summary>
internal interface IVectorOp
{
    static abstract Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s);
}

/// <summary>A two-operand 128-bit operation with an imm8 control (shuffles).</summary>
internal interface IVectorImmOp
{
    static abstract Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int imm);
}

/// <summary>A shift of every element by a count (imm8, or the low quadword of an XMM/m128 operand).</summary>
internal interface IShiftOp
{
    static abstract Vector128<byte> Apply(Vector128<byte> v, ulong count);
}

/// <summary>
/// SSE2 packed-integer and bitwise handlers (also the ANDPS/ORPS/XORPS family and the float
/// unpacks and shuffles, which are pure bit movement). One generic handler per operand shape,
/// specialised per operation by a struct type argument; the operations use .NET's portable vector
/// API, or SSE2 intrinsics where the portable API has no equivalent (with a scalar fallback for
/// non-x86 hosts).
/// </summary>
internal static unsafe class SseInt
{
    public static int Binary<TOp, TSrc>(Cpu c, Op* op) where TOp : IVectorOp where TSrc : IXmmSource
    {
        SseCore.Check(c);
        Vector128<byte> s = TSrc.V128(c, op);
        Vector128<byte>* d = SseCore.X(c, op->R1);
        *d = TOp.Apply(*d, s);
        return Handler.Continue;
    }

    public static int BinaryImm<TOp, TSrc>(Cpu c, Op* op) where TOp : IVectorImmOp where TSrc : IXmmSource
    {
        SseCore.Check(c);
        Vector128<byte> s = TSrc.V128(c, op);
        Vector128<byte>* d = SseCore.X(c, op->R1);
        *d = TOp.Apply(*d, s, (int)op->Imm & 0xFF);
        return Handler.Continue;
    }

    /// <summary>PSLLW/PSRLW/PSRAW/... xmm, imm8 and PSLLDQ/PSRLDQ.</summary>
    public static int ShiftImm<TOp>(Cpu c, Op* op) where TOp : IShiftOp
    {
        SseCore.Check(c);
        Vector128<byte>* d = SseCore.X(c, op->R1);
        *d = TOp.Apply(*d, op->Imm & 0xFF);
        return Handler.Continue;
    }

    /// <summary>PSLLW/... xmm, xmm/m128: the count is the whole low quadword (m128 is still alignment-checked).</summary>
    public static int ShiftBy<TOp, TSrc>(Cpu c, Op* op) where TOp : IShiftOp where TSrc : IXmmSource
    {
        SseCore.Check(c);
        ulong count = TSrc.V128(c, op).AsUInt64().ToScalar();
        Vector128<byte>* d = SseCore.X(c, op->R1);
        *d = TOp.Apply(*d, count);
        return Handler.Continue;
    }
}

// ---- bitwise ----------------------------------------------------------------------------------

internal readonly struct VAnd : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => d & s;
}

/// <summary>PANDN/ANDNPS/ANDNPD: NOT destination AND source.</summary>
internal readonly struct VAndNot : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.AndNot(s, d);
}

internal readonly struct VOr : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => d | s;
}

internal readonly struct VXor : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => d ^ s;
}

// ---- add / subtract ---------------------------------------------------------------------------

internal readonly struct PAddB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => d + s;
}

internal readonly struct PAddW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => (d.AsUInt16() + s.AsUInt16()).AsByte();
}

internal readonly struct PAddD : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => (d.AsUInt32() + s.AsUInt32()).AsByte();
}

internal readonly struct PAddQ : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => (d.AsUInt64() + s.AsUInt64()).AsByte();
}

internal readonly struct PSubB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => d - s;
}

internal readonly struct PSubW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => (d.AsUInt16() - s.AsUInt16()).AsByte();
}

internal readonly struct PSubD : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => (d.AsUInt32() - s.AsUInt32()).AsByte();
}

internal readonly struct PSubQ : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => (d.AsUInt64() - s.AsUInt64()).AsByte();
}

internal readonly struct PAddSB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.AddSaturate(d.AsSByte(), s.AsSByte()).AsByte();
}

internal readonly struct PAddSW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.AddSaturate(d.AsInt16(), s.AsInt16()).AsByte();
}

internal readonly struct PAddUSB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.AddSaturate(d, s);
}

internal readonly struct PAddUSW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.AddSaturate(d.AsUInt16(), s.AsUInt16()).AsByte();
}

internal readonly struct PSubSB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.SubtractSaturate(d.AsSByte(), s.AsSByte()).AsByte();
}

internal readonly struct PSubSW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.SubtractSaturate(d.AsInt16(), s.AsInt16()).AsByte();
}

internal readonly struct PSubUSB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.SubtractSaturate(d, s);
}

internal readonly struct PSubUSW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.SubtractSaturate(d.AsUInt16(), s.AsUInt16()).AsByte();
}

// ---- compare / min / max / average -------------------------------------------------------------

internal readonly struct PCmpEqB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.Equals(d, s);
}

internal readonly struct PCmpEqW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.Equals(d.AsUInt16(), s.AsUInt16()).AsByte();
}

internal readonly struct PCmpEqD : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.Equals(d.AsUInt32(), s.AsUInt32()).AsByte();
}

internal readonly struct PCmpGtB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.GreaterThan(d.AsSByte(), s.AsSByte()).AsByte();
}

internal readonly struct PCmpGtW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.GreaterThan(d.AsInt16(), s.AsInt16()).AsByte();
}

internal readonly struct PCmpGtD : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.GreaterThan(d.AsInt32(), s.AsInt32()).AsByte();
}

internal readonly struct PMinUB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.Min(d, s);
}

internal readonly struct PMaxUB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.Max(d, s);
}

internal readonly struct PMinSW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.Min(d.AsInt16(), s.AsInt16()).AsByte();
}

internal readonly struct PMaxSW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.Max(d.AsInt16(), s.AsInt16()).AsByte();
}

/// <summary>PAVGB: (a + b + 1) >> 1 without overflow, as (a | b) - ((a ^ b) >> 1).</summary>
internal readonly struct PAvgB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) =>
        Sse2.IsSupported ? Sse2.Average(d, s) : (d | s) - Vector128.ShiftRightLogical(d ^ s, 1);
}

internal readonly struct PAvgW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s)
    {
        Vector128<ushort> a = d.AsUInt16(), b = s.AsUInt16();
        return (Sse2.IsSupported ? Sse2.Average(a, b) : (a | b) - Vector128.ShiftRightLogical(a ^ b, 1)).AsByte();
    }
}

// ---- multiply ---------------------------------------------------------------------------------

internal readonly struct PMulLW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => (d.AsInt16() * s.AsInt16()).AsByte();
}

internal readonly struct PMulHW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s)
    {
        if (Sse2.IsSupported) return Sse2.MultiplyHigh(d.AsInt16(), s.AsInt16()).AsByte();
        var (dl, dh) = Vector128.Widen(d.AsInt16());
        var (sl, sh) = Vector128.Widen(s.AsInt16());
        return Vector128.Narrow(Vector128.ShiftRightArithmetic(dl * sl, 16), Vector128.ShiftRightArithmetic(dh * sh, 16)).AsByte();
    }
}

internal readonly struct PMulHUW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s)
    {
        if (Sse2.IsSupported) return Sse2.MultiplyHigh(d.AsUInt16(), s.AsUInt16()).AsByte();
        var (dl, dh) = Vector128.Widen(d.AsUInt16());
        var (sl, sh) = Vector128.Widen(s.AsUInt16());
        return Vector128.Narrow(Vector128.ShiftRightLogical(dl * sl, 16), Vector128.ShiftRightLogical(dh * sh, 16)).AsByte();
    }
}

/// <summary>PMULUDQ: the low dword of each quadword, multiplied to a full quadword.</summary>
internal readonly struct PMulUDQ : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s)
    {
        if (Sse2.IsSupported) return Sse2.Multiply(d.AsUInt32(), s.AsUInt32()).AsByte();
        var low = Vector128.Create(0xFFFF_FFFFUL);
        return ((d.AsUInt64() & low) * (s.AsUInt64() & low)).AsByte();
    }
}

/// <summary>PMADDWD: signed word products, adjacent pairs summed to dwords (0x8000 * 0x8000 * 2 wraps to 0x80000000).</summary>
internal readonly struct PMAddWD : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s)
    {
        if (Sse2.IsSupported) return Sse2.MultiplyAddAdjacent(d.AsInt16(), s.AsInt16()).AsByte();
        Vector128<int> r = default;
        for (int i = 0; i < 4; i++)
        {
            int p = d.AsInt16().GetElement(2 * i) * s.AsInt16().GetElement(2 * i);
            int q = d.AsInt16().GetElement(2 * i + 1) * s.AsInt16().GetElement(2 * i + 1);
            r = r.WithElement(i, unchecked(p + q));
        }
        return r.AsByte();
    }
}

/// <summary>PSADBW: per 8-byte half, the sum of absolute byte differences in the low word; the rest zero.</summary>
internal readonly struct PSadBW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s)
    {
        if (Sse2.IsSupported) return Sse2.SumAbsoluteDifferences(d, s).AsByte();
        Vector128<byte> diff = Vector128.Max(d, s) - Vector128.Min(d, s);
        ulong lo = 0, hi = 0;
        for (int i = 0; i < 8; i++)
        {
            lo += diff.GetElement(i);
            hi += diff.GetElement(i + 8);
        }
        return Vector128.Create(lo, hi).AsByte();
    }
}

// ---- pack / unpack ----------------------------------------------------------------------------

internal readonly struct PackSSWB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.NarrowWithSaturation(d.AsInt16(), s.AsInt16()).AsByte();
}

internal readonly struct PackSSDW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.NarrowWithSaturation(d.AsInt32(), s.AsInt32()).AsByte();
}

/// <summary>PACKUSWB: signed words saturated to unsigned bytes (negative to 0).</summary>
internal readonly struct PackUSWB : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s)
    {
        if (Sse2.IsSupported) return Sse2.PackUnsignedSaturate(d.AsInt16(), s.AsInt16());
        Vector128<short> lo = Vector128.Create((short)0), hi = Vector128.Create((short)255);
        return Vector128.Narrow(Vector128.Clamp(d.AsInt16(), lo, hi).AsUInt16(), Vector128.Clamp(s.AsInt16(), lo, hi).AsUInt16());
    }
}

/// <summary>Interleaves the low (or high) halves of destination and source, element size 1 &lt;&lt; <c>log2</c> bytes.</summary>
internal static class Interleave
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<byte> Bytes(Vector128<byte> d, Vector128<byte> s, int elementBytes, bool high)
    {
        Vector128<byte> r;
        byte* pr = (byte*)&r, pd = (byte*)&d, ps = (byte*)&s;
        int half = high ? 8 : 0, n = 8 / elementBytes;
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < elementBytes; k++)
            {
                pr[(2 * i) * elementBytes + k] = pd[half + i * elementBytes + k];
                pr[(2 * i + 1) * elementBytes + k] = ps[half + i * elementBytes + k];
            }
        }
        return r;
    }
}

internal readonly struct PUnpckLBW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Sse2.IsSupported ? Sse2.UnpackLow(d, s) : Interleave.Bytes(d, s, 1, false);
}

internal readonly struct PUnpckHBW : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Sse2.IsSupported ? Sse2.UnpackHigh(d, s) : Interleave.Bytes(d, s, 1, true);
}

internal readonly struct PUnpckLWD : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) =>
        Sse2.IsSupported ? Sse2.UnpackLow(d.AsUInt16(), s.AsUInt16()).AsByte() : Interleave.Bytes(d, s, 2, false);
}

internal readonly struct PUnpckHWD : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) =>
        Sse2.IsSupported ? Sse2.UnpackHigh(d.AsUInt16(), s.AsUInt16()).AsByte() : Interleave.Bytes(d, s, 2, true);
}

/// <summary>PUNPCKLDQ and UNPCKLPS.</summary>
internal readonly struct PUnpckLDQ : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) =>
        Sse2.IsSupported ? Sse2.UnpackLow(d.AsUInt32(), s.AsUInt32()).AsByte() : Interleave.Bytes(d, s, 4, false);
}

/// <summary>PUNPCKHDQ and UNPCKHPS.</summary>
internal readonly struct PUnpckHDQ : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) =>
        Sse2.IsSupported ? Sse2.UnpackHigh(d.AsUInt32(), s.AsUInt32()).AsByte() : Interleave.Bytes(d, s, 4, true);
}

/// <summary>PUNPCKLQDQ and UNPCKLPD.</summary>
internal readonly struct PUnpckLQDQ : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.Create(d.AsUInt64().GetElement(0), s.AsUInt64().GetElement(0)).AsByte();
}

/// <summary>PUNPCKHQDQ and UNPCKHPD.</summary>
internal readonly struct PUnpckHQDQ : IVectorOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s) => Vector128.Create(d.AsUInt64().GetElement(1), s.AsUInt64().GetElement(1)).AsByte();
}

// ---- shuffles (imm8) ----------------------------------------------------------------------------

internal readonly struct PShufD : IVectorImmOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int imm)
    {
        Vector128<uint> v = s.AsUInt32();
        return Vector128.Create(v.GetElement(imm & 3), v.GetElement((imm >> 2) & 3), v.GetElement((imm >> 4) & 3), v.GetElement((imm >> 6) & 3)).AsByte();
    }
}

/// <summary>PSHUFLW: shuffles the low four words; the high quadword is copied from the source.</summary>
internal readonly struct PShufLW : IVectorImmOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int imm)
    {
        Vector128<ushort> v = s.AsUInt16();
        ulong lo = v.GetElement(imm & 3) | ((ulong)v.GetElement((imm >> 2) & 3) << 16)
            | ((ulong)v.GetElement((imm >> 4) & 3) << 32) | ((ulong)v.GetElement((imm >> 6) & 3) << 48);
        return Vector128.Create(lo, s.AsUInt64().GetElement(1)).AsByte();
    }
}

/// <summary>PSHUFHW: shuffles the high four words; the low quadword is copied from the source.</summary>
internal readonly struct PShufHW : IVectorImmOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int imm)
    {
        Vector128<ushort> v = s.AsUInt16();
        ulong hi = v.GetElement(4 + (imm & 3)) | ((ulong)v.GetElement(4 + ((imm >> 2) & 3)) << 16)
            | ((ulong)v.GetElement(4 + ((imm >> 4) & 3)) << 32) | ((ulong)v.GetElement(4 + ((imm >> 6) & 3)) << 48);
        return Vector128.Create(s.AsUInt64().GetElement(0), hi).AsByte();
    }
}

/// <summary>SHUFPS: two dwords picked from the destination, two from the source.</summary>
internal readonly struct ShufPS : IVectorImmOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int imm)
    {
        Vector128<uint> a = d.AsUInt32(), b = s.AsUInt32();
        return Vector128.Create(a.GetElement(imm & 3), a.GetElement((imm >> 2) & 3), b.GetElement((imm >> 4) & 3), b.GetElement((imm >> 6) & 3)).AsByte();
    }
}

internal readonly struct ShufPD : IVectorImmOp
{
    public static Vector128<byte> Apply(Vector128<byte> d, Vector128<byte> s, int imm) =>
        Vector128.Create(d.AsUInt64().GetElement(imm & 1), s.AsUInt64().GetElement((imm >> 1) & 1)).AsByte();
}

// ---- shifts -------------------------------------------------------------------------------------
// Counts above the element width clear the element (logical) or fill it with the sign (arithmetic);
// .NET masks shift counts, so the range check comes first.

internal readonly struct PSllW : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n) => n > 15 ? default : Vector128.ShiftLeft(v.AsUInt16(), (int)n).AsByte();
}

internal readonly struct PSllD : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n) => n > 31 ? default : Vector128.ShiftLeft(v.AsUInt32(), (int)n).AsByte();
}

internal readonly struct PSllQ : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n) => n > 63 ? default : Vector128.ShiftLeft(v.AsUInt64(), (int)n).AsByte();
}

internal readonly struct PSrlW : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n) => n > 15 ? default : Vector128.ShiftRightLogical(v.AsUInt16(), (int)n).AsByte();
}

internal readonly struct PSrlD : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n) => n > 31 ? default : Vector128.ShiftRightLogical(v.AsUInt32(), (int)n).AsByte();
}

internal readonly struct PSrlQ : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n) => n > 63 ? default : Vector128.ShiftRightLogical(v.AsUInt64(), (int)n).AsByte();
}

internal readonly struct PSraW : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n) => Vector128.ShiftRightArithmetic(v.AsInt16(), (int)Math.Min(n, 15)).AsByte();
}

internal readonly struct PSraD : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n) => Vector128.ShiftRightArithmetic(v.AsInt32(), (int)Math.Min(n, 31)).AsByte();
}

/// <summary>PSLLDQ: whole-register shift left by imm8 bytes (16 or more clears it).</summary>
internal readonly struct PSllDQ : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n)
    {
        if (n > 15) return default;
        UInt128 x = Unsafe.As<Vector128<byte>, UInt128>(ref v) << (int)(n * 8);
        return Unsafe.As<UInt128, Vector128<byte>>(ref x);
    }
}

internal readonly struct PSrlDQ : IShiftOp
{
    public static Vector128<byte> Apply(Vector128<byte> v, ulong n)
    {
        if (n > 15) return default;
        UInt128 x = Unsafe.As<Vector128<byte>, UInt128>(ref v) >> (int)(n * 8);
        return Unsafe.As<UInt128, Vector128<byte>>(ref x);
    }
}
