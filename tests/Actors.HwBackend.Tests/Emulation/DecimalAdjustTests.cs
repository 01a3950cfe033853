using Actors.HwBackend.Abstractions;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// DAA, DAS, AAA, AAS, AAM, AAD in compatibility mode. Expected values are worked through the Intel
/// SDM vol. 2 pseudocode by hand (in each case's comment); only the flags the SDM defines are checked.
/// All six are invalid in 64-bit mode.
/// </summary>
public sealed class DecimalAdjustTests
{
    private const ulong CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80;
    private const ulong SzpMask = SF | ZF | PF;

    /// <summary>Runs <paramref name="emit"/>, then PUSHFD/POP EBX; returns (AX, flags).</summary>
    private static (ulong Ax, ulong Flags) Run(Action<Assembler> emit)
    {
        using var m = new LongModeMachine();
        var state = CompatibilityMode.Prepare(m, a =>
        {
            emit(a);
            a.pushfd();
            a.pop(ebx);
            a.hlt();
        });
        m.Vp.SetState(state);
        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        return (s.Gprs[0] & 0xFFFF, s.Gprs[3]);
    }

    // DAA after ADD: (1) AL&0F > 9 or AF: AL += 6, AF = 1; (2) old AL > 99h or old CF: AL += 60h, CF = 1, else CF = 0.
    [Theory]
    [InlineData(0x79, 0x35, 0x14, CF | AF | PF)] // AEh: E > 9 -> B4h, AF; AEh > 99h -> 14h, CF (79 + 35 = 114)
    [InlineData(0x38, 0x49, 0x87, AF | SF | PF)] // 81h with AF (8 + 9 carries): 87h; 81h <= 99h, CF = 0
    [InlineData(0x50, 0x50, 0x00, CF | ZF | PF)] // A0h: low digit 0, AF = 0; A0h > 99h -> 00h, CF
    [InlineData(0x12, 0x34, 0x46, 0UL)] // 46h: no adjustment; 46h has three bits set, PF = 0
    public void Daa_adjusts_a_packed_BCD_sum(int left, int right, int expectedAl, ulong flags)
    {
        var (result, f) = Run(x => { x.mov(al, (byte)left); x.add(al, (byte)right); x.daa(); });
        Assert.Equal((ulong)expectedAl, result & 0xFF);
        Assert.Equal(flags, f & (SzpMask | CF | AF));
    }

    // DAS after SUB: (1) AL&0F > 9 or AF: CF = old CF or borrow(AL - 6), AL -= 6, AF = 1; (2) old AL > 99h or old CF: AL -= 60h, CF = 1.
    [Theory]
    [InlineData(0x35, 0x47, 0x88, CF | AF | SF | PF)] // EEh with CF, AF: E8h; EEh > 99h -> 88h, CF (35 - 47 = -12: 88 borrow 1)
    [InlineData(0x83, 0x38, 0x45, AF)] // 4Bh with AF: 45h, no borrow; 4Bh <= 99h, CF 0 (83 - 38 = 45). 45h: three bits, PF = 0
    [InlineData(0x20, 0x20, 0x00, ZF | PF)] // no adjustment
    public void Das_adjusts_a_packed_BCD_difference(int left, int right, int expectedAl, ulong flags)
    {
        var (result, f) = Run(x => { x.mov(al, (byte)left); x.sub(al, (byte)right); x.das(); });
        Assert.Equal((ulong)expectedAl, result & 0xFF);
        Assert.Equal(flags, f & (SzpMask | CF | AF));
    }

    /// <summary>DAS's CF comes from the borrow of step (1) when step (2) does not apply: AL = 03h, AF = 1, CF = 0 gives FDh with CF = 1.</summary>
    [Fact]
    public void Das_keeps_the_borrow_of_the_low_digit_adjustment_in_CF()
    {
        var (result, f) = Run(x => { x.mov(ah, 0x10); x.sahf(); x.mov(al, 0x03); x.das(); });
        Assert.Equal(0xFDUL, result & 0xFF);
        Assert.Equal(CF | AF | SF, f & (SzpMask | CF | AF)); // FDh has seven bits set: PF = 0
    }

    // AAA: AL&0F > 9 or AF: AX += 106h, AF = CF = 1, else AF = CF = 0; then AL &= 0Fh.
    [Theory]
    [InlineData(0x0009, 8, 0x0107, true)] // 09h + 8 = 11h with AF: 0117h, AL & 0F -> 0107h (9 + 8 = 17)
    [InlineData(0x0503, 4, 0x0507, false)] // 07h: no adjustment
    [InlineData(0x00FF, 0x0B, 0x0100, true)] // AL 0Ah (FFh + 0Bh), low digit A > 9: 010Ah -> 0100h; the carry into AH comes from AX + 106h
    public void Aaa_adjusts_an_unpacked_BCD_sum(int ax0, int add, int expected, bool adjusted)
    {
        var (result, f) = Run(x => { x.mov(eax, ax0); x.add(al, (byte)add); x.aaa(); });
        Assert.Equal((ulong)expected, result);
        Assert.Equal(adjusted ? CF | AF : 0UL, f & (CF | AF));
    }

    // AAS: AL&0F > 9 or AF: AX -= 6, AH -= 1, AF = CF = 1, else AF = CF = 0; then AL &= 0Fh.
    [Theory]
    [InlineData(0x0203, 5, 0x0108, true)] // FEh with AF: 02FEh - 6 = 02F8h, AH - 1 -> 01F8h, -> 0108h (23 - 5 = 18)
    [InlineData(0x000A, 0, 0xFF04, true)] // low digit A: 000Ah - 6 = 0004h, AH - 1 = FFh -> FF04h
    [InlineData(0x0309, 2, 0x0307, false)]
    public void Aas_adjusts_an_unpacked_BCD_difference(int ax0, int sub, int expected, bool adjusted)
    {
        var (result, f) = Run(x => { x.mov(eax, ax0); x.sub(al, (byte)sub); x.aas(); });
        Assert.Equal((ulong)expected, result);
        Assert.Equal(adjusted ? CF | AF : 0UL, f & (CF | AF));
    }

    // AAM imm8: AH = AL / imm8, AL = AL mod imm8; SF, ZF, PF from AL.
    [Theory]
    [InlineData(0x4F, 10, 0x0709, PF)] // 79 = 7 * 10 + 9; 09h has two bits set
    [InlineData(0xAB, 16, 0x0A0B, 0UL)] // 0Bh: three bits, PF = 0
    [InlineData(0x50, 10, 0x0800, ZF | PF)]
    public void Aam_splits_AL_into_unpacked_digits(int al0, int radix, int expected, ulong flags)
    {
        var (result, f) = Run(x => { x.mov(eax, 0x1234_5600 | al0); x.aam((sbyte)radix); });
        Assert.Equal((ulong)expected, result);
        Assert.Equal(flags, f & SzpMask);
    }

    // AAD imm8: AL = (AL + AH * imm8) & FFh, AH = 0; SF, ZF, PF from AL.
    [Theory]
    [InlineData(0x0709, 10, 0x004F, 0UL)] // 9 + 7 * 10 = 79 = 4Fh: five bits set, PF = 0
    [InlineData(0x0A0B, 16, 0x00AB, SF)] // 0Bh + 0Ah * 16 = ABh: five bits
    [InlineData(0x1A05, 10, 0x0009, PF)] // 5 + 26 * 10 = 265 = 109h, AL keeps 09h
    public void Aad_combines_unpacked_digits_into_AL(int ax0, int radix, int expected, ulong flags)
    {
        var (result, f) = Run(x => { x.mov(eax, ax0); x.aad((sbyte)radix); });
        Assert.Equal((ulong)expected, result);
        Assert.Equal(flags, f & SzpMask);
    }

    /// <summary>AAM 0 raises #DE with the saved RIP at the AAM and AX unchanged.</summary>
    [Fact]
    public void Aam_with_a_zero_immediate_raises_DE()
    {
        using var m = new LongModeMachine();
        var state = CompatibilityMode.Prepare(m, a => { a.mov(eax, 0x1234); a.aam(0); a.hlt(); });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(rbx, __qword_ptr[rsp]);
            a.mov(edi, 0xDE);
            a.hlt();
        });
        m.SetGate(0, LongModeMachine.HandlerBase);
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(0xDEUL, s.Gprs[7]);
        Assert.Equal(LongModeMachine.CodeBase + 5, s.Gprs[3]); // after the 5-byte MOV EAX
        Assert.Equal(0x1234UL, s.Gprs[0]);
    }

    [Theory]
    [InlineData(new byte[] { 0x27 })] // daa
    [InlineData(new byte[] { 0x2F })] // das
    [InlineData(new byte[] { 0x37 })] // aaa
    [InlineData(new byte[] { 0x3F })] // aas
    [InlineData(new byte[] { 0xD4, 0x0A })] // aam
    [InlineData(new byte[] { 0xD5, 0x0A })] // aad
    public void Decimal_adjustments_are_invalid_in_64_bit_mode(byte[] code) => AssertUndefinedIn64BitMode(code);

    /// <summary>Runs <paramref name="code"/> in 64-bit mode and expects #UD with the saved RIP at it.</summary>
    internal static void AssertUndefinedIn64BitMode(byte[] code)
    {
        using var m = new LongModeMachine();
        m.Machine.Memory.Write(LongModeMachine.CodeBase, code);
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(rax, __qword_ptr[rsp]);
            a.mov(rbx, 0x600D);
            a.hlt();
        });
        m.SetGate(6, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(0x600DUL, s.Gprs[3]);
        Assert.Equal(LongModeMachine.CodeBase, s.Gprs[0]);
    }
}
