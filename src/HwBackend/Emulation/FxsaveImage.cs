using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>The 512-byte FXSAVE layout: x87 state from the CPU's image, MXCSR at 24, XMM0..15 at 160.</summary>
internal static unsafe class FxsaveImage
{
    public const int MxcsrOffset = 24, MxcsrMaskOffset = 28, XmmOffset = 160;

    public static byte[] Capture(Cpu c)
    {
        var area = new byte[VpState.FxsaveAreaSize];
        Write(c, area);
        return area;
    }

    public static void Write(Cpu c, Span<byte> area)
    {
        c.FpuImage.AsSpan(0, 160).CopyTo(area);
        BinaryPrimitives.WriteUInt32LittleEndian(area[MxcsrOffset..], c.Mxcsr);
        BinaryPrimitives.WriteUInt32LittleEndian(area[MxcsrMaskOffset..], 0xFFFF);
        for (int i = 0; i < 32; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(area[(XmmOffset + i * 8)..], c.Xmm[i]);
        area[(XmmOffset + 256)..].Clear();
    }

    public static void Restore(Cpu c, ReadOnlySpan<byte> area)
    {
        area[..160].CopyTo(c.FpuImage);
        c.Mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(area[MxcsrOffset..]) & 0xFFFF;
        for (int i = 0; i < 32; i++)
            c.Xmm[i] = BinaryPrimitives.ReadUInt64LittleEndian(area[(XmmOffset + i * 8)..]);
    }
}
