using System.Buffers.Binary;
using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Sse;

/// <summary>LDMXCSR/STMXCSR, FXSAVE/FXRSTOR and the x87 control instructions.</summary>
public sealed class SseStateTests
{
    private const int UD = 6, GP = 13, MF = 16;
    private const ulong Data = SseMachine.DataBase;

    [Fact]
    public void LdmxcsrAndStmxcsrRoundTrip()
    {
        using var m = new SseMachine();
        m.WriteData(0, 0xFFC0UL); // every control bit, no flags
        m.State.Gprs[6] = Data;
        var r = m.Run(a =>
        {
            a.ldmxcsr(__dword_ptr[rsi]);
            a.stmxcsr(__dword_ptr[rsi + 4]);
        });
        Assert.Equal(-1, r.Vector);
        Assert.Equal(0xFFC0u, r.Mxcsr);
        Assert.Equal(0xFFC0UL, m.ReadData64(4) & 0xFFFF_FFFF);
    }

    [Fact]
    public void LdmxcsrWithReservedBitsIsGeneralProtection()
    {
        using var m = new SseMachine();
        m.WriteData(0, 0x1_1F80UL);
        m.State.Gprs[6] = Data;
        var r = m.Run(a => a.ldmxcsr(__dword_ptr[rsi]));
        Assert.Equal(GP, r.Vector);
        Assert.Equal(0x1F80u, r.Mxcsr);
    }

    [Fact]
    public void MxcsrRoundingControlAppliesToArithmeticAndConversions()
    {
        using var m = new SseMachine();
        m.Mxcsr = 0x1F80 | (1 << 13); // round down
        m.SetXmm(0, 1.0, 0.0);
        m.SetXmm(1, 10.0, 0.0);
        m.SetXmm(2, -2.5, 0.0);
        var r = m.Run(a =>
        {
            a.divsd(xmm0, xmm1);
            a.cvtsd2si(eax, xmm2);
        });
        Assert.Equal(BitConverter.DoubleToUInt64Bits(0.1) - 1, r.Lo(0)); // 0.1 rounds up to nearest, so down is one ulp less
        Assert.Equal(unchecked((ulong)(uint)-3), r.Gpr(0));
        Assert.Equal(0x1F80u | (1 << 13) | 0x20, r.Mxcsr);
    }

    [Fact]
    public void FxsaveWritesTheStandardLayoutAndFxrstorRestoresIt()
    {
        using var m = new SseMachine();
        for (int i = 0; i < 16; i++)
            m.SetXmm(i, 0x0101_0101_0101_0101UL * (ulong)i, ~(0x0101_0101_0101_0101UL * (ulong)i));
        m.Mxcsr = 0x3F80 | 0x21;
        m.WriteData(0, new byte[512].AsSpan().ToArray().Select(_ => (byte)0xCC).ToArray());
        m.State.Gprs[6] = Data;
        var r = m.Run(a => a.fxsave64(__[rsi]));
        Assert.Equal(-1, r.Vector);
        var image = m.ReadData(0, 512);
        Assert.Equal(0x037F, BinaryPrimitives.ReadUInt16LittleEndian(image));
        Assert.Equal(0x3FA1u, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(24)));
        Assert.Equal(0xFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(28)));
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(0x0101_0101_0101_0101UL * (ulong)i, BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(160 + 16 * i)));
            Assert.Equal(~(0x0101_0101_0101_0101UL * (ulong)i), BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(168 + 16 * i)));
        }
        // Bytes 416..511 (reserved and software-available) are not written.
        Assert.All(image[416..], b => Assert.Equal(0xCC, b));

        // Change everything, then restore from the image.
        var restored = m.Run(a =>
        {
            a.pcmpeqb(xmm3, xmm3);
            a.pxor(xmm15, xmm15);
            a.fnstcw(__word_ptr[rsi + 600]);
            a.mov(__word_ptr[rsi + 602], 0x0272);
            a.fldcw(__word_ptr[rsi + 602]);
            a.fxrstor64(__[rsi]);
        });
        Assert.Equal(-1, restored.Vector);
        Assert.Equal(0x3FA1u, restored.Mxcsr);
        Assert.Equal(0x0303_0303_0303_0303UL, restored.Lo(3));
        Assert.Equal(0x0F0F_0F0F_0F0F_0F0FUL, restored.Lo(15));
        Assert.Equal(0x037F, BinaryPrimitives.ReadUInt16LittleEndian(restored.State.FxsaveArea));
    }

    [Fact]
    public void FxsaveNeedsSixteenByteAlignment()
    {
        using var m = new SseMachine();
        m.State.Gprs[6] = Data + 8;
        Assert.Equal(GP, m.Run(a => a.fxsave64(__[rsi])).Vector);
        Assert.Equal(GP, m.Run(a => a.fxrstor64(__[rsi])).Vector);
    }

    [Fact]
    public void FxrstorWithReservedMxcsrBitsIsGeneralProtectionAndLoadsNothing()
    {
        using var m = new SseMachine();
        var image = new byte[512];
        BinaryPrimitives.WriteUInt16LittleEndian(image, 0x027F);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 0x1_1F80);
        image[160] = 0x42;
        m.WriteData(0, image);
        m.State.Gprs[6] = Data;
        var r = m.Run(a => a.fxrstor64(__[rsi]));
        Assert.Equal(GP, r.Vector);
        Assert.Equal(0UL, r.Lo(0));
        Assert.Equal(0x037F, BinaryPrimitives.ReadUInt16LittleEndian(r.State.FxsaveArea));
    }

    [Fact]
    public void FxsaveInCompatibilityModeSavesEightXmmRegisters()
    {
        using var m = new SseMachine();
        m.State.Cs = SegmentRegister.Flat32(0x18, true);
        for (int i = 0; i < 16; i++)
            m.SetXmm(i, (ulong)i + 1, 0);
        m.WriteData(0, Enumerable.Repeat((byte)0xCC, 512).ToArray());
        m.State.Gprs[6] = Data;
        var r = m.Run(SseMachine.Assemble(a => a.fxsave(__[esi]), 32));
        Assert.Equal(-1, r.Vector);
        var image = m.ReadData(0, 512);
        Assert.Equal(8UL, BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(160 + 16 * 7)));
        Assert.All(image[288..], b => Assert.Equal(0xCC, b));
    }

    [Fact]
    public void X87ControlInstructions()
    {
        using var m = new SseMachine();
        m.State.Gprs[6] = Data;
        m.State.Gprs[0] = 0x1234_5678_9ABC_DEF0;
        m.WriteData(0, 0xFFFFUL);
        var r = m.Run(a =>
        {
            a.fninit();
            a.fnstcw(__word_ptr[rsi + 8]);
            a.fldcw(__word_ptr[rsi]);
            a.fnstcw(__word_ptr[rsi + 10]);
            a.fnstsw(__word_ptr[rsi + 12]);
            a.fnstsw(ax);
            a.fnclex();
            a.wait();
        });
        Assert.Equal(-1, r.Vector);
        var d = m.ReadData(8, 6);
        Assert.Equal(0x037F, BinaryPrimitives.ReadUInt16LittleEndian(d));
        Assert.Equal(0x1F7F, BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(2))); // bit 6 reads 1, 13..15 read 0
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(4)));
        Assert.Equal(0x1234_5678_9ABC_0000UL, r.Gpr(0));
    }

    [Fact]
    public void FwaitDeliversPendingUnmaskedX87Exception()
    {
        using var m = new SseMachine();
        // An image with FSW.IE set, then a control word that unmasks IE: ES becomes pending.
        var image = new byte[512];
        BinaryPrimitives.WriteUInt16LittleEndian(image, 0x037F);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(2), 0x0001);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 0x1F80);
        m.WriteData(0, image);
        m.WriteData(512, 0x037EUL);
        m.State.Gprs[6] = Data;
        var r = m.Run(a =>
        {
            a.fxrstor64(__[rsi]);
            a.fldcw(__word_ptr[rsi + 512]);
            a.fnstsw(ax);
            a.wait();
        });
        Assert.Equal(MF, r.Vector);
        Assert.Equal(0x8081UL, r.Gpr(0) & 0xFFFF);
    }

    [Fact]
    public void UnimplementedSse3IsUndefined()
    {
        using var m = new SseMachine();
        Assert.Equal(UD, m.Run(a => a.haddpd(xmm0, xmm1)).Vector);
        Assert.Equal(UD, m.Run(a => a.pshufb(xmm0, xmm1)).Vector);
    }
}
