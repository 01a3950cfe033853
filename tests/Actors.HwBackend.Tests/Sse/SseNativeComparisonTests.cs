using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Tests.Differential;
using Iced.Intel;
using Xunit;
using Xunit.Abstractions;

namespace Actors.HwBackend.Tests.Sse;

/// <summary>A fact that needs the host CPU as the oracle (Linux on x86-64); skipped elsewhere.</summary>
public sealed class HostX64FactAttribute : FactAttribute
{
    public HostX64FactAttribute()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            Skip = "needs the host CPU (Linux x86-64) as the reference";
    }
}

/// <summary>
/// Every SSE/SSE2 form <see cref="SseTranslator"/> handles, run with random operands (rich in
/// NaNs, infinities, denormals, zeros and boundary values) and random MXCSR controls and flags, on
/// the host CPU and on the emulator; every XMM register, GPR, the status flags, MXCSR and the data
/// window must come out identical. Exceptions stay masked (an unmasked one would kill the host).
/// </summary>
public sealed unsafe class SseNativeComparisonTests(ITestOutputHelper output)
{
    /// <summary>Hardware approximations (12-bit tables) we do not reproduce: compared with a tolerance elsewhere.</summary>
    private static readonly HashSet<Mnemonic> Approximate = [Mnemonic.Rcpps, Mnemonic.Rcpss, Mnemonic.Rsqrtps, Mnemonic.Rsqrtss];

    /// <summary>Checked by their own tests: MXCSR loads would unmask exceptions on the host.</summary>
    private static readonly HashSet<Mnemonic> Separate = [Mnemonic.Ldmxcsr, Mnemonic.Stmxcsr];

    private static readonly Register[] Gprs =
        [Register.RAX, Register.RCX, Register.RDX, Register.RBX, Register.RBP, Register.RDI, Register.R8, Register.R9, Register.R10, Register.R11, Register.R12, Register.R13, Register.R14, Register.R15];

    internal static IEnumerable<Code> HandledForms()
    {
        foreach (var code in Enum.GetValues<Code>())
        {
            var oc = code.ToOpCode();
            if (oc.Encoding != EncodingKind.Legacy || !oc.Mode64 || !oc.IsInstruction)
                continue;
            var ins = new Instruction { Code = code };
            if (!ins.CpuidFeatures.All(f => f is CpuidFeature.SSE or CpuidFeature.SSE2))
                continue;
            if (Selects(code))
                yield return code;
        }
    }

    /// <summary>Whether the translator picks a handler for <paramref name="code"/> (register form, or memory when the form has no register variant).</summary>
    internal static bool Selects(Code code)
    {
        var oc = code.ToOpCode();
        Op op = default;
        op.K0 = op.K1 = op.K2 = OperandKind.None;
        for (int i = 0; i < oc.OpCount; i++)
        {
            byte k = oc.GetOpKind(i) switch
            {
                OpCodeOperandKind.mem or OpCodeOperandKind.seg_rDI => OperandKind.Memory,
                OpCodeOperandKind.imm8 => OperandKind.Immediate,
                _ => OperandKind.Register,
            };
            if (i == 0) op.K0 = k;
            else if (i == 1) op.K1 = k;
            else op.K2 = k;
        }
        var ins = new Instruction { Code = code };
        return SseTranslator.Select(in ins, &op) != null;
    }

    [HostX64Fact]
    public void EveryFormMatchesTheHost()
    {
        var rng = new Random(20240611);
        var forms = HandledForms().Where(c => !Approximate.Contains(c.Mnemonic()) && !Separate.Contains(c.Mnemonic())).ToArray();
        Assert.True(forms.Length > 150, $"only {forms.Length} forms");
        using var m = new SseMachine();
        int failures = 0, runs = 0;
        var failedForms = new List<string>();
        foreach (var code in forms)
        {
            int formFailures = 0;
            for (int i = 0; i < 250; i++)
            {
                runs++;
                string? diff = RunOne(m, code, rng, out string text);
                if (diff == null)
                    continue;
                if (formFailures < 3)
                    output.WriteLine($"{text}: {diff}");
                formFailures++;
            }
            if (formFailures > 0)
                failedForms.Add($"{code} ({formFailures})");
            failures += formFailures;
        }
        Assert.True(failures == 0, $"{failures}/{runs} runs differ: {string.Join(", ", failedForms)}");
    }

    private static string? RunOne(SseMachine m, Code code, Random rng, out string text)
    {
        var oc = code.ToOpCode();
        bool useMemory = rng.Next(3) == 0;
        var ops = new object[oc.OpCount];
        bool hasMemory = false;
        for (int i = 0; i < oc.OpCount; i++)
        {
            var kind = oc.GetOpKind(i);
            switch (kind)
            {
                case OpCodeOperandKind.xmm_reg:
                case OpCodeOperandKind.xmm_rm:
                    ops[i] = Register.XMM0 + rng.Next(16);
                    break;
                case OpCodeOperandKind.r32_reg:
                    ops[i] = Gprs[rng.Next(Gprs.Length)] - Register.RAX + Register.EAX;
                    break;
                case OpCodeOperandKind.r64_reg:
                    ops[i] = Gprs[rng.Next(Gprs.Length)];
                    break;
                case OpCodeOperandKind.xmm_or_mem:
                    ops[i] = useMemory ? new MemoryOperand(Register.RSI) : Register.XMM0 + rng.Next(16);
                    hasMemory |= useMemory;
                    break;
                case OpCodeOperandKind.r32_or_mem:
                    ops[i] = useMemory ? new MemoryOperand(Register.RSI) : Gprs[rng.Next(Gprs.Length)] - Register.RAX + Register.EAX;
                    hasMemory |= useMemory;
                    break;
                case OpCodeOperandKind.r64_or_mem:
                    ops[i] = useMemory ? new MemoryOperand(Register.RSI) : Gprs[rng.Next(Gprs.Length)];
                    hasMemory |= useMemory;
                    break;
                case OpCodeOperandKind.mem:
                    ops[i] = new MemoryOperand(Register.RSI);
                    hasMemory = true;
                    break;
                case OpCodeOperandKind.seg_rDI:
                    ops[i] = OpKind.MemorySegRDI;
                    hasMemory = true;
                    break;
                case OpCodeOperandKind.imm8:
                    ops[i] = rng.Next(4) == 0 ? rng.Next(256) : rng.Next(code.Mnemonic() is Mnemonic.Cmpps or Mnemonic.Cmppd or Mnemonic.Cmpss or Mnemonic.Cmpsd ? 8 : 40);
                    break;
                default:
                    throw new InvalidOperationException($"{code}: operand kind {kind}");
            }
        }
        var ins = Create(code, ops);
        text = ins.ToString();
        var code8 = Encode(ins);

        // Aligned-only forms get a 16-byte aligned address; the rest may be misaligned anywhere.
        int memSize = hasMemory ? ins.MemorySize.GetSize() : 0;
        bool unalignedOk = memSize < 16 || code.Mnemonic() is Mnemonic.Movups or Mnemonic.Movupd or Mnemonic.Movdqu or Mnemonic.Maskmovdqu;
        int offset = 0x400 + 16 * rng.Next(32) + (unalignedOk ? rng.Next(16) : 0);
        if (rng.Next(8) == 0 && unalignedOk) offset = 0x1000 - rng.Next(1, 16); // across the page boundary

        var input = new RegisterState();
        for (int r = 0; r < 16; r++)
            input.Gprs[r] = RandomGpr(rng);
        input.Gprs[4] = DiffLayout.StackTop;
        input.Gprs[6] = DiffLayout.DataBase + (ulong)offset;
        if (code == Code.Maskmovdqu_rDI_xmm_xmm) input.Gprs[7] = input.Gprs[6];
        input.Rflags = (ulong)rng.Next(0x1000) & NativeExecutor.LoadableFlags & ~0x400UL;
        input.Mxcsr = RandomMxcsr(rng);
        for (int r = 0; r < 16; r++)
            input.SetXmm(r, RandomLane(rng), RandomLane(rng));
        var data = new byte[DiffLayout.DataSize];
        rng.NextBytes(data);
        for (int k = 0; k < 8; k++)
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(offset + 8 * k - 16 < 0 ? 0 : offset + 8 * k - 16), RandomLane(rng));

        var native = new RegisterState();
        var nativeData = new byte[DiffLayout.DataSize];
        NativeExecutor.Instance.Run(code8, input, data, native, nativeData);

        for (int r = 0; r < 16; r++) m.State.Gprs[r] = input.Gprs[r];
        m.State.Rflags = input.Rflags | 2;
        m.State.Rip = SseMachine.CodeBase;
        m.Mxcsr = input.Mxcsr;
        input.Xmm.CopyTo(m.State.FxsaveArea, 160);
        m.WriteWindow(data);
        var withHlt = new byte[code8.Length + 1];
        code8.CopyTo(withHlt, 0);
        withHlt[^1] = 0xF4;
        var r2 = m.Run(withHlt);
        var emuData = new byte[DiffLayout.DataSize];
        m.ReadWindow(emuData);

        if (r2.Vector >= 0) return $"emulator raised vector {r2.Vector}";
        if (r2.Exit.Reason != VpExitReason.Halt) return $"emulator exit {r2.Exit.Reason} {r2.Exit.Message}";
        var diffs = new List<string>();
        for (int r = 0; r < 16; r++)
        {
            if (native.XmmLow(r) != r2.Lo(r) || native.XmmHigh(r) != r2.Hi(r))
                diffs.Add($"xmm{r} in {input.XmmText(r)} host {native.XmmText(r)} emu {r2.Hi(r):x16}_{r2.Lo(r):x16}");
        }
        for (int r = 0; r < 16; r++)
        {
            if (native.Gprs[r] != r2.Gpr(r))
                diffs.Add($"{RegisterState.GprNames[r]} host {native.Gprs[r]:x16} emu {r2.Gpr(r):x16}");
        }
        if ((native.Rflags & 0x8D5) != r2.Flags) diffs.Add($"flags host {native.Rflags & 0x8D5:x} emu {r2.Flags:x}");
        if (native.Mxcsr != r2.Mxcsr) diffs.Add($"mxcsr in {input.Mxcsr:x4} host {native.Mxcsr:x4} emu {r2.Mxcsr:x4}");
        if (!nativeData.AsSpan().SequenceEqual(emuData)) diffs.Add("memory differs");
        return diffs.Count == 0 ? null : string.Join("; ", diffs);
    }

    private static Instruction Create(Code code, object[] ops)
    {
        var ins = new Instruction { Code = code };
        for (int i = 0; i < ops.Length; i++)
        {
            switch (ops[i])
            {
                case Register reg:
                    ins.SetOpKind(i, OpKind.Register);
                    ins.SetOpRegister(i, reg);
                    break;
                case MemoryOperand mem:
                    ins.SetOpKind(i, OpKind.Memory);
                    ins.MemoryBase = mem.Base;
                    ins.MemoryIndex = Register.None;
                    ins.MemoryIndexScale = 1;
                    ins.MemoryDisplacement64 = 0;
                    break;
                case OpKind implicitMemory:
                    ins.SetOpKind(i, implicitMemory);
                    ins.SegmentPrefix = Register.None;
                    break;
                case int imm:
                    ins.SetOpKind(i, OpKind.Immediate8);
                    ins.Immediate8 = (byte)imm;
                    break;
            }
        }
        return ins;
    }

    private static byte[] Encode(Instruction ins)
    {
        var w = new ByteCodeWriter();
        var e = Encoder.Create(64, w);
        if (!e.TryEncode(ins, SseMachine.CodeBase, out _, out string? error))
            throw new InvalidOperationException($"{ins.Code}: {error}");
        return w.ToArray();
    }

    private static ulong RandomGpr(Random rng) => rng.Next(4) switch
    {
        0 => (ulong)rng.NextInt64(),
        1 => (ulong)(long)rng.Next(-1000, 1000),
        2 => (ulong)rng.NextInt64() >> rng.Next(64),
        _ => (0x8000_0000_0000_0000UL >> rng.Next(2)) | (uint)rng.Next(3),
    };

    internal static uint RandomMxcsr(Random rng)
    {
        uint mx = 0x1F80;
        if (rng.Next(3) == 0) mx |= (uint)rng.Next(64);
        if (rng.Next(3) == 0) mx |= (uint)rng.Next(4) << 13;
        if (rng.Next(5) == 0) mx |= 0x40;
        if (rng.Next(5) == 0) mx |= 0x8000;
        return mx;
    }

    /// <summary>A 64-bit lane: two floats or one double, from a pool rich in special values.</summary>
    internal static ulong RandomLane(Random rng) => rng.Next(3) switch
    {
        0 => RandomDouble(rng),
        1 => RandomFloat(rng) | ((ulong)RandomFloat(rng) << 32),
        _ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63),
    };

    internal static ulong RandomDouble(Random rng)
    {
        ulong sign = (ulong)rng.Next(2) << 63;
        return rng.Next(12) switch
        {
            0 => sign,
            1 => sign | (ulong)rng.NextInt64(1, 1L << 52),
            2 => sign | 0x7FF0_0000_0000_0000UL,
            3 => sign | 0x7FF8_0000_0000_0000UL | (ulong)rng.NextInt64(0, 1L << 51),
            4 => sign | 0x7FF0_0000_0000_0000UL | (ulong)rng.NextInt64(1, 1L << 51),
            5 => sign | ((ulong)rng.Next(1, 60) << 52) | (ulong)rng.NextInt64(0, 1L << 52),
            6 => sign | ((ulong)rng.Next(0x7C0, 0x7FF) << 52) | (ulong)rng.NextInt64(0, 1L << 52),
            7 => BitConverter.DoubleToUInt64Bits(rng.Next(-100000, 100000) / 4.0),
            8 => BitConverter.DoubleToUInt64Bits(rng.NextDouble() * Math.Pow(2, rng.Next(-70, 70))) | sign,
            9 => sign | ((ulong)rng.Next(0x3F0, 0x410) << 52) | ((ulong)rng.NextInt64(0, 1L << 52) & ~0xFFFFFUL),
            10 => BitConverter.DoubleToUInt64Bits(rng.Next(-3, 3) * 2147483648.0 + rng.Next(-3, 3)),
            _ => sign | ((ulong)rng.Next(0x3F0, 0x410) << 52) | (ulong)rng.NextInt64(0, 1L << 52),
        };
    }

    internal static uint RandomFloat(Random rng)
    {
        uint sign = (uint)rng.Next(2) << 31;
        return rng.Next(12) switch
        {
            0 => sign,
            1 => sign | (uint)rng.Next(1, 1 << 23),
            2 => sign | 0x7F80_0000u,
            3 => sign | 0x7FC0_0000u | (uint)rng.Next(0, 1 << 22),
            4 => sign | 0x7F80_0000u | (uint)rng.Next(1, 1 << 22),
            5 => sign | ((uint)rng.Next(1, 30) << 23) | (uint)rng.Next(0, 1 << 23),
            6 => sign | ((uint)rng.Next(0xE0, 0xFF) << 23) | (uint)rng.Next(0, 1 << 23),
            7 => BitConverter.SingleToUInt32Bits(rng.Next(-100000, 100000) / 4.0f),
            8 => BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * Math.Pow(2, rng.Next(-40, 40)))) | sign,
            9 => sign | ((uint)rng.Next(0x70, 0x90) << 23) | ((uint)rng.Next(0, 1 << 23) & ~0xFFFu),
            10 => BitConverter.SingleToUInt32Bits(rng.Next(-3, 3) * 2147483648.0f),
            _ => sign | ((uint)rng.Next(0x70, 0x90) << 23) | (uint)rng.Next(0, 1 << 23),
        };
    }
}
