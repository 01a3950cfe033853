using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>Sized atomic access to guest RAM for LOCK-prefixed instructions and XCHG.</summary>
internal static unsafe class Atomic
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load<S>(byte* p) where S : IOperandSize => S.Bits switch
    {
        8 => Volatile.Read(ref *p),
        16 => Volatile.Read(ref *(ushort*)p),
        32 => Volatile.Read(ref *(uint*)p),
        _ => Volatile.Read(ref *(ulong*)p),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool CompareExchange<S>(byte* p, ulong expected, ulong value) where S : IOperandSize => S.Bits switch
    {
        8 => Interlocked.CompareExchange(ref *p, (byte)value, (byte)expected) == (byte)expected,
        16 => Interlocked.CompareExchange(ref *(ushort*)p, (ushort)value, (ushort)expected) == (ushort)expected,
        32 => Interlocked.CompareExchange(ref *(uint*)p, (uint)value, (uint)expected) == (uint)expected,
        _ => Interlocked.CompareExchange(ref *(ulong*)p, value, expected) == expected,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Exchange<S>(byte* p, ulong value) where S : IOperandSize => S.Bits switch
    {
        8 => Interlocked.Exchange(ref *p, (byte)value),
        16 => Interlocked.Exchange(ref *(ushort*)p, (ushort)value),
        32 => Interlocked.Exchange(ref *(uint*)p, (uint)value),
        _ => Interlocked.Exchange(ref *(ulong*)p, value),
    };
}
