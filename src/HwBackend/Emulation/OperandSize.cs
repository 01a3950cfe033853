using System.Runtime.CompilerServices;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// An operand size as a type, so that one generic handler compiles to four specialised ones:
/// the JIT specialises generic methods over struct type arguments and folds these constants.
/// Register numbers 16..19 in 8-bit form name AH, CH, DH, BH.
/// </summary>
internal unsafe interface IOperandSize
{
    static abstract int Bits { get; }
    static abstract ulong Mask { get; }
    static abstract ulong SignExtend(ulong v);
    static abstract ulong ReadReg(Cpu c, int r);
    static abstract void WriteReg(Cpu c, int r, ulong v);

    /// <summary>The same on a register file given by its address: translated code keeps <see cref="Cpu.Regs"/> in a local.</summary>
    static abstract ulong ReadReg(ulong* regs, int r);
    static abstract void WriteReg(ulong* regs, int r, ulong v);
    static abstract ulong Read(Cpu c, ulong la);
    static abstract void Write(Cpu c, ulong la, ulong v);
}

internal readonly unsafe struct Size8 : IOperandSize
{
    public static int Bits => 8;
    public static ulong Mask => 0xFF;
    public static ulong SignExtend(ulong v) => (ulong)(long)(sbyte)v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadReg(Cpu c, int r) => ReadReg(c.Regs, r);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteReg(Cpu c, int r, ulong v) => WriteReg(c.Regs, r, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadReg(ulong* regs, int r) => r < 16 ? (byte)regs[r] : (byte)(regs[r - 16] >> 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteReg(ulong* regs, int r, ulong v)
    {
        if (r < 16) *(byte*)(regs + r) = (byte)v;
        else *((byte*)(regs + r - 16) + 1) = (byte)v;
    }

    public static ulong Read(Cpu c, ulong la) => c.Read8(la);
    public static void Write(Cpu c, ulong la, ulong v) => c.Write8(la, (byte)v);
}

internal readonly unsafe struct Size16 : IOperandSize
{
    public static int Bits => 16;
    public static ulong Mask => 0xFFFF;
    public static ulong SignExtend(ulong v) => (ulong)(long)(short)v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadReg(Cpu c, int r) => ReadReg(c.Regs, r);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteReg(Cpu c, int r, ulong v) => WriteReg(c.Regs, r, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadReg(ulong* regs, int r) => (ushort)regs[r];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteReg(ulong* regs, int r, ulong v) => *(ushort*)(regs + r) = (ushort)v;

    public static ulong Read(Cpu c, ulong la) => c.Read16(la);
    public static void Write(Cpu c, ulong la, ulong v) => c.Write16(la, (ushort)v);
}

internal readonly unsafe struct Size32 : IOperandSize
{
    public static int Bits => 32;
    public static ulong Mask => 0xFFFF_FFFF;
    public static ulong SignExtend(ulong v) => (ulong)(long)(int)v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadReg(Cpu c, int r) => ReadReg(c.Regs, r);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteReg(Cpu c, int r, ulong v) => WriteReg(c.Regs, r, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadReg(ulong* regs, int r) => (uint)regs[r];

    /// <summary>A 32-bit register write zero-extends into the full 64-bit register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteReg(ulong* regs, int r, ulong v) => regs[r] = (uint)v;

    public static ulong Read(Cpu c, ulong la) => c.Read32(la);
    public static void Write(Cpu c, ulong la, ulong v) => c.Write32(la, (uint)v);
}

internal readonly unsafe struct Size64 : IOperandSize
{
    public static int Bits => 64;
    public static ulong Mask => ulong.MaxValue;
    public static ulong SignExtend(ulong v) => v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadReg(Cpu c, int r) => c.Regs[r];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteReg(Cpu c, int r, ulong v) => c.Regs[r] = v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadReg(ulong* regs, int r) => regs[r];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteReg(ulong* regs, int r, ulong v) => regs[r] = v;

    public static ulong Read(Cpu c, ulong la) => c.Read64(la);
    public static void Write(Cpu c, ulong la, ulong v) => c.Write64(la, v);
}
