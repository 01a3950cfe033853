using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Sse;

/// <summary>The exceptions SSE instructions raise: availability (#UD/#NM), alignment (#GP), SIMD exceptions (#XM).</summary>
public sealed class SseFaultTests
{
    private const int UD = 6, NM = 7, GP = 13, PF = 14, XM = 19;
    private const ulong Data = SseMachine.DataBase;

    [Fact]
    public void AlignedMoveOfMisalignedOperandIsGeneralProtection()
    {
        using var m = new SseMachine();
        m.State.Gprs[6] = Data + 8;
        var r = m.Run(a => a.movaps(xmm0, __xmmword_ptr[rsi]));
        Assert.Equal(GP, r.Vector);
        Assert.Equal(SseMachine.StackTop - 48, r.Gpr(4)); // SS, RSP, RFLAGS, CS, RIP and the error code pushed
    }

    [Fact]
    public void UnalignedMoveOfMisalignedOperandWorks()
    {
        using var m = new SseMachine();
        m.WriteData(8, 0x1122334455667788UL);
        m.WriteData(16, 0x99AABBCCDDEEFF00UL);
        m.State.Gprs[6] = Data + 8;
        var r = m.Run(a => a.movups(xmm0, __xmmword_ptr[rsi]));
        Assert.Equal(-1, r.Vector);
        Assert.Equal(0x1122334455667788UL, r.Lo(0));
        Assert.Equal(0x99AABBCCDDEEFF00UL, r.Hi(0));
    }

    [Fact]
    public void ArithmeticWithMisalignedM128IsGeneralProtectionButScalarIsNot()
    {
        using var m = new SseMachine();
        m.State.Gprs[6] = Data + 4;
        Assert.Equal(GP, m.Run(a => a.addps(xmm0, __xmmword_ptr[rsi])).Vector);
        Assert.Equal(GP, m.Run(a => a.paddd(xmm0, __xmmword_ptr[rsi])).Vector);
        Assert.Equal(GP, m.Run(a => a.pshufd(xmm0, __xmmword_ptr[rsi], 0x1B)).Vector);
        Assert.Equal(GP, m.Run(a => a.movntdq(__xmmword_ptr[rsi], xmm0)).Vector);
        Assert.Equal(-1, m.Run(a => a.addss(xmm0, __dword_ptr[rsi])).Vector);
        Assert.Equal(-1, m.Run(a => a.addsd(xmm0, __qword_ptr[rsi])).Vector);
        Assert.Equal(-1, m.Run(a => a.cvtps2pd(xmm0, __qword_ptr[rsi])).Vector);
        Assert.Equal(-1, m.Run(a => a.movhps(xmm0, __qword_ptr[rsi])).Vector);
    }

    [Fact]
    public void WithoutOsfxsrSseIsUndefined()
    {
        using var m = new SseMachine();
        m.State.Cr4 &= ~0x200UL;
        Assert.Equal(UD, m.Run(a => a.addps(xmm0, xmm1)).Vector);
        Assert.Equal(UD, m.Run(a => a.ldmxcsr(__dword_ptr[rsp - 8])).Vector);
        // FXSAVE does not need OSFXSR.
        m.State.Gprs[6] = Data;
        Assert.Equal(-1, m.Run(a => a.fxsave64(__[rsi])).Vector);
    }

    [Fact]
    public void EmulationBitMakesSseUndefinedAndX87DeviceNotAvailable()
    {
        using var m = new SseMachine();
        m.State.Cr0 |= 4;
        Assert.Equal(UD, m.Run(a => a.movdqa(xmm0, xmm1)).Vector);
        Assert.Equal(NM, m.Run(a => a.fninit()).Vector);
        m.State.Gprs[6] = Data;
        Assert.Equal(NM, m.Run(a => a.fxsave64(__[rsi])).Vector);
    }

    [Fact]
    public void TaskSwitchedIsDeviceNotAvailable()
    {
        using var m = new SseMachine();
        m.State.Cr0 |= 8; // TS (MP is set too)
        Assert.Equal(NM, m.Run(a => a.pxor(xmm0, xmm0)).Vector);
        Assert.Equal(NM, m.Run(a => a.fnstcw(__word_ptr[rsp - 8])).Vector);
        Assert.Equal(NM, m.Run(a => a.wait()).Vector);
        m.State.Cr0 &= ~2UL; // WAIT only traps when MP and TS are both set
        Assert.Equal(-1, m.Run(a => a.wait()).Vector);
    }

    [Fact]
    public void MovntiIgnoresTheSseControlBits()
    {
        using var m = new SseMachine();
        m.State.Cr0 |= 8 | 4; // TS and EM
        m.State.Cr4 &= ~0x200UL;
        m.State.Gprs[6] = Data;
        m.State.Gprs[0] = 0x1122_3344_5566_7788;
        var r = m.Run(a => a.movnti(__qword_ptr[rsi], rax));
        Assert.Equal(-1, r.Vector);
        Assert.Equal(0x1122_3344_5566_7788UL, m.ReadData64(0));
    }

    [Fact]
    public void UnmaskedSimdExceptionRaisesXmAndLeavesDestination()
    {
        using var m = new SseMachine();
        m.Mxcsr = 0x1F80 & ~0x200u; // unmask divide-by-zero
        m.SetXmm(0, 1.0f, 2.0f, 3.0f, 4.0f);
        m.SetXmm(1, 1.0f, 0.0f, 1.0f, 1.0f);
        var r = m.Run(a => a.divps(xmm0, xmm1));
        Assert.Equal(XM, r.Vector);
        Assert.Equal(2.0f, r.F(0, 1)); // unchanged
        Assert.Equal(1.0f, r.F(0, 0));
        Assert.Equal(0x1F80u & ~0x200u | 4, r.Mxcsr); // ZE recorded

        m.State.Cr4 &= ~0x400UL; // without OSXMMEXCPT the same condition is #UD
        Assert.Equal(UD, m.Run(a => a.divps(xmm0, xmm1)).Vector);
    }

    [Fact]
    public void UnmaskedInvalidOnComisdLeavesFlags()
    {
        using var m = new SseMachine();
        m.Mxcsr = 0x1F80 & ~0x80u;
        m.SetXmm(0, double.NaN, 0.0);
        m.SetXmm(1, 1.0, 0.0);
        m.State.Rflags = 0x2 | 0x1; // CF
        var r = m.Run(a => a.comisd(xmm0, xmm1));
        Assert.Equal(XM, r.Vector);
        // Masked: unordered sets ZF PF CF.
        m.Mxcsr = 0x1F80;
        r = m.Run(a => a.comisd(xmm0, xmm1));
        Assert.Equal(-1, r.Vector);
        Assert.Equal(0x45UL, r.Flags);
        Assert.Equal(0x1F81u, r.Mxcsr);
    }

    [Fact]
    public void PageCrossingStoreFaultsBeforeWritingAnything()
    {
        using var m = new SseMachine();
        m.UnmapPage(Data + 0x1000);
        m.WriteData(0xFF8, 0x5555_5555_5555_5555UL);
        m.SetXmm(0, ulong.MaxValue, ulong.MaxValue);
        m.State.Gprs[6] = Data + 0xFF8;
        var r = m.Run(a => a.movdqu(__xmmword_ptr[rsi], xmm0));
        Assert.Equal(PF, r.Vector);
        Assert.Equal(0x5555_5555_5555_5555UL, m.ReadData64(0xFF8));
    }
}
