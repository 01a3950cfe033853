using System.Buffers.Binary;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// Checks the host-side oracle on its own, with results known by hand, so a broken harness is
/// told apart from a broken emulator.
/// </summary>
public sealed class NativeExecutorSelfTests
{
    private static byte[] Encode(Action<Assembler> emit)
    {
        var a = new Assembler(64);
        emit(a);
        var w = new ByteCodeWriter();
        a.Assemble(w, 0);
        return w.ToArray();
    }

    private static (RegisterState Output, byte[] Data) Run(byte[] code, RegisterState input, byte[]? data = null)
    {
        data ??= new byte[DiffLayout.DataSize];
        var output = new RegisterState();
        var dataOut = new byte[DiffLayout.DataSize];
        NativeExecutor.Instance.Run(code, input, data, output, dataOut);
        return (output, dataOut);
    }

    private static RegisterState BaseState()
    {
        var s = new RegisterState();
        for (int i = 0; i < 16; i++)
            s.Gprs[i] = 0x1111_1111_1111_1111UL * (ulong)i;
        s.Gprs[4] = DiffLayout.StackTop;
        return s;
    }

    [Fact]
    public void AddSetsResultAndFlags()
    {
        var s = BaseState();
        s.Gprs[0] = 0x7FFF_FFFF_FFFF_FFFF;
        s.Gprs[3] = 1;
        var (o, _) = Run(Encode(a => a.add(rax, rbx)), s);
        Assert.Equal(0x8000_0000_0000_0000UL, o.Gprs[0]);
        // OF, SF, AF set; ZF, CF clear; PF set (low byte 0 has even parity).
        Assert.Equal(0x0800UL | 0x80 | 0x10 | 0x04, o.Rflags & NativeExecutor.LoadableFlags);
        for (int i = 1; i < 16; i++)
            Assert.Equal(s.Gprs[i], o.Gprs[i]);
    }

    [Fact]
    public void InputFlagsReachTheInstruction()
    {
        var s = BaseState();
        s.Gprs[0] = 5;
        s.Gprs[3] = 7;
        s.Rflags = 0x2 | 0x1 | 0x400; // CF and DF
        var (o, _) = Run(Encode(a => a.adc(rax, rbx)), s);
        Assert.Equal(13UL, o.Gprs[0]);
        Assert.Equal(0x400UL, o.Rflags & 0x400);
    }

    [Fact]
    public void PushWritesTheDataWindow()
    {
        var s = BaseState();
        s.Gprs[0] = 0x0123_4567_89AB_CDEF;
        var (o, data) = Run(Encode(a => a.push(rax)), s);
        Assert.Equal(DiffLayout.StackTop - 8, o.Gprs[4]);
        int off = (int)(DiffLayout.StackTop - 8 - DiffLayout.DataBase);
        Assert.Equal(0x0123_4567_89AB_CDEFUL, BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(off)));
    }

    [Fact]
    public void MemoryOperandUsesTheFixedWindow()
    {
        var s = BaseState();
        s.Gprs[6] = DiffLayout.DataBase + 0x100; // rsi
        var data = new byte[DiffLayout.DataSize];
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(0x108), 40);
        s.Gprs[1] = 2; // rcx
        var (o, outData) = Run(Encode(a => a.add(__qword_ptr[rsi + rcx * 4], 2)), s, data);
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(outData.AsSpan(0x108)));
        Assert.Equal(s.Gprs[6], o.Gprs[6]);
    }

    [Fact]
    public void RepStosbHonoursDirectionFlag()
    {
        var s = BaseState();
        s.Gprs[0] = 0xAB;
        s.Gprs[1] = 4;
        s.Gprs[7] = DiffLayout.DataBase + 0x203; // rdi
        s.Rflags = 0x2 | 0x400;
        var (o, data) = Run(Encode(a => a.rep.stosb()), s);
        Assert.Equal(0UL, o.Gprs[1]);
        Assert.Equal(DiffLayout.DataBase + 0x1FF, o.Gprs[7]);
        Assert.Equal([0xAB, 0xAB, 0xAB, 0xAB], data.AsSpan(0x200, 4).ToArray());
        Assert.Equal(0, data[0x1FF]);
    }

    [Fact]
    public void XmmAndMxcsrRoundTrip()
    {
        var s = BaseState();
        s.SetXmm(0, BitConverter.DoubleToUInt64Bits(1.5), 0x1111);
        s.SetXmm(15, BitConverter.DoubleToUInt64Bits(2.25), 0x2222);
        var (o, _) = Run(Encode(a => a.addsd(xmm0, xmm15)), s);
        Assert.Equal(BitConverter.DoubleToUInt64Bits(3.75), o.XmmLow(0));
        Assert.Equal(0x1111UL, o.XmmHigh(0));
        Assert.Equal(s.XmmText(15), o.XmmText(15));
        Assert.Equal(0x1F80u, o.Mxcsr);

        s.SetXmm(1, BitConverter.DoubleToUInt64Bits(1.0), 0);
        s.SetXmm(2, BitConverter.DoubleToUInt64Bits(0.0), 0);
        var (o2, _) = Run(Encode(a => a.divsd(xmm1, xmm2)), s);
        Assert.Equal(BitConverter.DoubleToUInt64Bits(double.PositiveInfinity), o2.XmmLow(1));
        Assert.Equal(0x1F80u | 0x4, o2.Mxcsr); // ZE sticky flag
    }

    [Fact]
    public void RunsAreRepeatable()
    {
        var s = BaseState();
        var code = Encode(a => a.imul(r11, __qword_ptr[rsp + 8]));
        var (o1, d1) = Run(code, s);
        var (o2, d2) = Run(code, s);
        Assert.Equal(o1.Gprs, o2.Gprs);
        Assert.Equal(o1.Rflags, o2.Rflags);
        Assert.Equal(d1, d2);
    }
}
