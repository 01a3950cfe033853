using Actors.HwBackend.Abstractions;
using Iced.Intel;
using Xunit;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// The masks and the comparer, checked on hand-made cases: a mask that is too wide hides emulator
/// bugs, one that is too narrow reports vendor noise as bugs.
/// </summary>
public sealed class HarnessSelfTests
{
    private static DiffCase Case(Instruction ins, Action<RegisterState>? setup = null)
    {
        var w = new ByteCodeWriter();
        Encoder.Create(64, w).Encode(ins, DiffLayout.CodeAddress);
        var bytes = w.ToArray();
        var decoder = Decoder.Create(64, bytes, DiffLayout.CodeAddress);
        var input = new RegisterState();
        input.Gprs[4] = DiffLayout.StackTop;
        setup?.Invoke(input);
        var c = new DiffCase { Code = bytes, Instruction = decoder.Decode(), Input = input, Data = new byte[DiffLayout.DataSize] };
        DefinedOutputs.Apply(c);
        return c;
    }

    private const ulong All = DefinedOutputs.Compared;

    [Fact]
    public void ShiftMasksFollowTheCount()
    {
        var byCl = Instruction.Create(Code.Shl_rm32_CL, Register.EDX, Register.CL);
        Assert.Equal(All, Case(byCl, s => s.Gprs[1] = 32).FlagsMask); // masked to 0: nothing changes
        Assert.Equal(All & ~DefinedOutputs.AF, Case(byCl, s => s.Gprs[1] = 1).FlagsMask);
        Assert.Equal(All & ~(DefinedOutputs.AF | DefinedOutputs.OF), Case(byCl, s => s.Gprs[1] = 5).FlagsMask);

        var byteShift = Instruction.Create(Code.Shr_rm8_imm8, Register.AL, 9);
        Assert.Equal(All & ~(DefinedOutputs.AF | DefinedOutputs.OF | DefinedOutputs.CF), Case(byteShift).FlagsMask);
        var sar = Instruction.Create(Code.Sar_rm8_imm8, Register.AL, 9);
        Assert.Equal(All & ~(DefinedOutputs.AF | DefinedOutputs.OF), Case(sar).FlagsMask);

        var rcl = Instruction.Create(Code.Rcl_rm16_imm8, Register.AX, 1);
        Assert.Equal(All, Case(rcl).FlagsMask);
        var rol = Instruction.Create(Code.Rol_rm64_imm8, Register.RAX, 3);
        Assert.Equal(All & ~DefinedOutputs.OF, Case(rol).FlagsMask);
    }

    [Fact]
    public void ShldBeyondOperandSizeIgnoresDestination()
    {
        var shld = Instruction.Create(Code.Shld_rm16_r16_imm8, Register.BX, Register.CX, 20);
        var c = Case(shld);
        Assert.Equal(DefinedOutputs.DF, c.FlagsMask);
        Assert.Equal(1 << 3, c.IgnoredGprs);
    }

    [Fact]
    public void BsfWithZeroSourceIgnoresDestination()
    {
        var bsf = Instruction.Create(Code.Bsf_r64_rm64, Register.R9, Register.RSI);
        Assert.Equal(1 << 9, Case(bsf, s => s.Gprs[6] = 0).IgnoredGprs);
        var c = Case(bsf, s => s.Gprs[6] = 8);
        Assert.Equal(0, c.IgnoredGprs);
        Assert.Equal(DefinedOutputs.ZF | DefinedOutputs.DF, c.FlagsMask);
    }

    [Fact]
    public void ArithmeticComparesEveryFlag()
    {
        Assert.Equal(All, Case(Instruction.Create(Code.Add_rm64_r64, Register.RAX, Register.RBX)).FlagsMask);
        Assert.Equal(All & ~DefinedOutputs.AF, Case(Instruction.Create(Code.And_rm8_r8, Register.AH, Register.BL)).FlagsMask);
        Assert.Equal(DefinedOutputs.DF, Case(Instruction.Create(Code.Div_rm32, Register.ECX)).FlagsMask);
    }

    [Fact]
    public void ComparerReportsEveryKindOfDifference()
    {
        var c = Case(Instruction.Create(Code.Add_rm64_r64, Register.RAX, Register.RBX));
        var native = new RegisterState();
        var emu = native.Clone();
        var nativeData = new byte[DiffLayout.DataSize];
        var emuData = new byte[DiffLayout.DataSize];
        var halt = new EmulatorOutcome(VpExitReason.Halt, DiffLayout.CodeAddress + (ulong)c.Code.Length + 1, null);
        Assert.Null(CaseComparer.Compare(c, native, nativeData, halt, emu, emuData));

        emu.Gprs[13] = 1;
        emu.Rflags |= DefinedOutputs.OF;
        emu.SetXmm(7, 0, 1);
        emu.Mxcsr |= 1;
        emuData[100] = 5;
        string diff = CaseComparer.Compare(c, native, nativeData, halt, emu, emuData)!;
        Assert.Contains("r13:", diff);
        Assert.Contains("rflags: differ in [OF]", diff);
        Assert.Contains("xmm7:", diff);
        Assert.Contains("mxcsr:", diff);
        Assert.Contains("memory: 1 byte(s)", diff);

        var wrongRip = halt with { Rip = DiffLayout.CodeAddress };
        Assert.Contains("rip after hlt", CaseComparer.Compare(c, native, nativeData, wrongRip, native, nativeData));
        var fault = new EmulatorOutcome(VpExitReason.PortOut, 0, null, 6, 0, DiffLayout.CodeAddress);
        Assert.Contains("#UD", CaseComparer.Compare(c, native, nativeData, fault, native, nativeData));
    }

    [Fact]
    public void UndefinedFlagDifferencesAreNotReported()
    {
        var c = Case(Instruction.Create(Code.Imul_r64_rm64, Register.RAX, Register.RBX));
        var native = new RegisterState();
        var emu = native.Clone();
        emu.Rflags |= DefinedOutputs.SF | DefinedOutputs.ZF | DefinedOutputs.AF | DefinedOutputs.PF;
        var data = new byte[DiffLayout.DataSize];
        var halt = new EmulatorOutcome(VpExitReason.Halt, DiffLayout.CodeAddress + (ulong)c.Code.Length + 1, null);
        Assert.Null(CaseComparer.Compare(c, native, data, halt, emu, data));
    }

    [Fact]
    public void DivisionGuardRejectsFaultingInputs()
    {
        Assert.False(DivisionGuard.IsSafe(Mnemonic.Div, 32, 0, 1, 0));
        Assert.False(DivisionGuard.IsSafe(Mnemonic.Div, 8, 2, 0x200, 0)); // 512 / 2 = 256 > 255
        Assert.True(DivisionGuard.IsSafe(Mnemonic.Div, 8, 3, 0x200, 0));
        Assert.False(DivisionGuard.IsSafe(Mnemonic.Idiv, 64, ulong.MaxValue, 0x8000_0000_0000_0000, ulong.MaxValue)); // MIN / -1
        Assert.True(DivisionGuard.IsSafe(Mnemonic.Idiv, 16, 0x3074, 0x0800, 0xEA12)); // -367916032 / 12404 = -29661
        Assert.False(DivisionGuard.IsSafe(Mnemonic.Idiv, 16, 11, 0x0800, 0xEA12));
    }
}
