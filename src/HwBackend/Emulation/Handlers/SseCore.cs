using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// What every SSE handler shares: the availability check, MXCSR exception delivery, XMM register
/// access and 128-bit memory access.
/// </summary>
internal static unsafe class SseCore
{
    /// <summary>
    /// #UD when CR0.EM = 1 or CR4.OSFXSR = 0, #NM when CR0.TS = 1. CR0/CR4 change without the block
    /// being rebuilt (CLTS, a context switch setting TS), so this is checked on every execution: two
    /// loads and one branch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(Cpu c)
    {
        if (((c.Cr0 & (Cr0Bits.EM | Cr0Bits.TS)) | (~c.Cr4 & Cr4Bits.OSFXSR)) != 0) Unavailable(c);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Unavailable(Cpu c)
    {
        // #UD outranks #NM: it is a decode-time condition.
        if ((c.Cr0 & Cr0Bits.EM) != 0 || (c.Cr4 & Cr4Bits.OSFXSR) == 0) throw new CpuFault(ExceptionVector.UD, 0, false);
        throw new CpuFault(ExceptionVector.NM, 0, false);
    }

    /// <summary>
    /// Merges an instruction's exception flags into MXCSR and raises #XM (#UD when CR4.OSXMMEXCPT = 0)
    /// if any of them is unmasked. Called before the destination is written: a faulting SSE
    /// instruction leaves its destination unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Raise(Cpu c, uint flags)
    {
        uint mx = c.Mxcsr | flags;
        c.Mxcsr = mx;
        if ((flags & ~(mx >> 7) & MxcsrBits.Flags) != 0)
            throw new CpuFault((c.Cr4 & Cr4Bits.OSXMMEXCPT) != 0 ? ExceptionVector.XM : ExceptionVector.UD, 0, false);
    }

    public static CpuFault GeneralProtection() => new(ExceptionVector.GP, 0, true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte>* X(Cpu c, int n) => (Vector128<byte>*)(c.Xmm + 2 * n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Load(Cpu c, ulong la) =>
        Vector128.Create(c.Read64(la), c.Read64((la + 8) & c.LinearMask)).AsByte();

    /// <summary>Legacy SSE 128-bit memory operands must be 16-byte aligned (all but MOVUPS/MOVUPD/MOVDQU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> LoadAligned(Cpu c, ulong la)
    {
        if ((la & 15) != 0) throw GeneralProtection();
        return Vector128.Create(c.Read64(la), c.Read64(la + 8)).AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Cpu c, ulong la, Vector128<byte> v)
    {
        // Probe both pages first so a fault on the second leaves the first untouched.
        if ((la & 0xFFF) > 0xFF0) c.ProbeWrite(la, 16);
        c.Write64(la, v.AsUInt64().GetElement(0));
        c.Write64((la + 8) & c.LinearMask, v.AsUInt64().GetElement(1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreAligned(Cpu c, ulong la, Vector128<byte> v)
    {
        if ((la & 15) != 0) throw GeneralProtection();
        c.Write64(la, v.AsUInt64().GetElement(0));
        c.Write64(la + 8, v.AsUInt64().GetElement(1));
    }
}

/// <summary>
/// The second operand of an SSE instruction (operand 1, R2 when a register), specialised by form:
/// an XMM register, an aligned memory operand, or an unaligned one (only the explicit unaligned
/// moves). Scalar forms read 32 or 64 bits of memory without alignment checks.
/// </summary>
internal unsafe interface IXmmSource
{
    static abstract Vector128<byte> V128(Cpu c, Op* op);

    static abstract ulong Q(Cpu c, Op* op);

    static abstract uint D(Cpu c, Op* op);
}

internal readonly unsafe struct XmmReg : IXmmSource
{
    public static Vector128<byte> V128(Cpu c, Op* op) => *SseCore.X(c, op->R2);

    public static ulong Q(Cpu c, Op* op) => c.Xmm[2 * op->R2];

    public static uint D(Cpu c, Op* op) => (uint)c.Xmm[2 * op->R2];
}

internal readonly unsafe struct XmmMem : IXmmSource
{
    public static Vector128<byte> V128(Cpu c, Op* op) => SseCore.LoadAligned(c, Handler.Ea(c, op));

    public static ulong Q(Cpu c, Op* op) => c.Read64(Handler.Ea(c, op));

    public static uint D(Cpu c, Op* op) => c.Read32(Handler.Ea(c, op));
}

internal readonly unsafe struct XmmMemUnaligned : IXmmSource
{
    public static Vector128<byte> V128(Cpu c, Op* op) => SseCore.Load(c, Handler.Ea(c, op));

    public static ulong Q(Cpu c, Op* op) => c.Read64(Handler.Ea(c, op));

    public static uint D(Cpu c, Op* op) => c.Read32(Handler.Ea(c, op));
}

/// <summary>A compile-time boolean, to specialise a handler on a variant (truncating or not, 64-bit or not).</summary>
internal interface IFlag
{
    static abstract bool Value { get; }
}

internal readonly struct Yes : IFlag
{
    public static bool Value => true;
}

internal readonly struct No : IFlag
{
    public static bool Value => false;
}
