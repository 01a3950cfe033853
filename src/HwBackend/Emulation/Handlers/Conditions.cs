using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>A condition code as a type so that Jcc specialises per condition with no switch.</summary>
internal interface ICondition
{
    static abstract bool Test(Cpu c);
}

internal readonly struct CondO : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => c.OF; }
internal readonly struct CondNO : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => !c.OF; }
internal readonly struct CondB : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => c.CF; }
internal readonly struct CondAE : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => !c.CF; }
internal readonly struct CondE : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => c.ZF; }
internal readonly struct CondNE : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => !c.ZF; }
internal readonly struct CondBE : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => c.CF || c.ZF; }
internal readonly struct CondA : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => !c.CF && !c.ZF; }
internal readonly struct CondS : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => c.SF; }
internal readonly struct CondNS : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => !c.SF; }
internal readonly struct CondP : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => c.PF; }
internal readonly struct CondNP : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => !c.PF; }
internal readonly struct CondL : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => c.SF != c.OF; }
internal readonly struct CondGE : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => c.SF == c.OF; }
internal readonly struct CondLE : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => c.ZF || c.SF != c.OF; }
internal readonly struct CondG : ICondition { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Test(Cpu c) => !c.ZF && c.SF == c.OF; }
