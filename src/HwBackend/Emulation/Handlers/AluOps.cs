using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>A two-operand arithmetic or logic operation as a type, so handlers specialise per operation.</summary>
internal interface IAluOp
{
    static abstract bool WritesResult { get; }
    static abstract ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize;
}

internal readonly struct AddOp : IAluOp
{
    public static bool WritesResult => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a + b; c.SetFlagsAdd<S>(a, b, r); return r; }
}

internal readonly struct AdcOp : IAluOp
{
    public static bool WritesResult => true;
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a + b + (c.CF ? 1UL : 0UL); c.SetFlagsAdd<S>(a, b, r); return r; }
}

internal readonly struct SubOp : IAluOp
{
    public static bool WritesResult => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a - b; c.SetFlagsSub<S>(a, b, r); return r; }
}

internal readonly struct SbbOp : IAluOp
{
    public static bool WritesResult => true;
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a - b - (c.CF ? 1UL : 0UL); c.SetFlagsSub<S>(a, b, r); return r; }
}

internal readonly struct CmpOp : IAluOp
{
    public static bool WritesResult => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a - b; c.SetFlagsSub<S>(a, b, r); return r; }
}

internal readonly struct AndOp : IAluOp
{
    public static bool WritesResult => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a & b; c.SetFlagsLogic<S>(r); return r; }
}

internal readonly struct TestOp : IAluOp
{
    public static bool WritesResult => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a & b; c.SetFlagsLogic<S>(r); return r; }
}

internal readonly struct OrOp : IAluOp
{
    public static bool WritesResult => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a | b; c.SetFlagsLogic<S>(r); return r; }
}

internal readonly struct XorOp : IAluOp
{
    public static bool WritesResult => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a ^ b; c.SetFlagsLogic<S>(r); return r; }
}
