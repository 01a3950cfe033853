using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>A two-operand arithmetic or logic operation as a type, so handlers specialise per operation.</summary>
internal interface IAluOp
{
    static abstract bool WritesResult { get; }

    /// <summary>Whether the result depends on a flag (CF for ADC and SBB).</summary>
    static abstract bool ReadsFlags { get; }

    /// <summary>The result, with the six arithmetic flags set from it.</summary>
    static abstract ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize;

    /// <summary>The result alone, for translated code where a later instruction overwrites the flags unread.</summary>
    static abstract ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize;
}

internal readonly struct AddOp : IAluOp
{
    public static bool WritesResult => true;
    public static bool ReadsFlags => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a + b; c.SetFlagsAdd<S>(a, b, r); return r; }
}

internal readonly struct AdcOp : IAluOp
{
    public static bool WritesResult => true;
    public static bool ReadsFlags => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize => a + b + (c.CF ? 1UL : 0UL);
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a + b + (c.CF ? 1UL : 0UL); c.SetFlagsAdd<S>(a, b, r); return r; }
}

internal readonly struct SubOp : IAluOp
{
    public static bool WritesResult => true;
    public static bool ReadsFlags => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a - b; c.SetFlagsSub<S>(a, b, r); return r; }
}

internal readonly struct SbbOp : IAluOp
{
    public static bool WritesResult => true;
    public static bool ReadsFlags => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize => a - b - (c.CF ? 1UL : 0UL);
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a - b - (c.CF ? 1UL : 0UL); c.SetFlagsSub<S>(a, b, r); return r; }
}

internal readonly struct CmpOp : IAluOp
{
    public static bool WritesResult => false;
    public static bool ReadsFlags => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a - b; c.SetFlagsSub<S>(a, b, r); return r; }
}

internal readonly struct AndOp : IAluOp
{
    public static bool WritesResult => true;
    public static bool ReadsFlags => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a & b; c.SetFlagsLogic<S>(r); return r; }
}

internal readonly struct TestOp : IAluOp
{
    public static bool WritesResult => false;
    public static bool ReadsFlags => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a & b; c.SetFlagsLogic<S>(r); return r; }
}

internal readonly struct OrOp : IAluOp
{
    public static bool WritesResult => true;
    public static bool ReadsFlags => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a | b; c.SetFlagsLogic<S>(r); return r; }
}

internal readonly struct XorOp : IAluOp
{
    public static bool WritesResult => true;
    public static bool ReadsFlags => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute<S>(Cpu c, ulong a, ulong b) where S : IOperandSize => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Apply<S>(Cpu c, ulong a, ulong b) where S : IOperandSize { ulong r = a ^ b; c.SetFlagsLogic<S>(r); return r; }
}
