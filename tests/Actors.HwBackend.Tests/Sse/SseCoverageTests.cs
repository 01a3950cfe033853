using System.Buffers.Binary;
using Actors.HwBackend.Tests.Differential;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Sse;

/// <summary>Which SSE/SSE2 forms are handled, and the approximations (RCP/RSQRT) against the host within their error bound.</summary>
public sealed class SseCoverageTests
{
    [Fact]
    public void EverySse2FormOutsideMmxIsHandled()
    {
        var missing = new List<string>();
        foreach (var code in Enum.GetValues<Code>())
        {
            var oc = code.ToOpCode();
            if (oc.Encoding != EncodingKind.Legacy || !oc.Mode64 || !oc.IsInstruction)
                continue;
            var ins = new Instruction { Code = code };
            if (!ins.CpuidFeatures.All(f => f is CpuidFeature.SSE or CpuidFeature.SSE2))
                continue;
            bool mmx = Enumerable.Range(0, oc.OpCount).Any(i => oc.GetOpKind(i) is OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm or OpCodeOperandKind.mm_or_mem);
            // Fences, prefetches and CLFLUSH belong to the main translator.
            bool elsewhere = code.Mnemonic() is Mnemonic.Lfence or Mnemonic.Mfence or Mnemonic.Sfence
                or Mnemonic.Prefetchnta or Mnemonic.Prefetcht0 or Mnemonic.Prefetcht1 or Mnemonic.Prefetcht2 or Mnemonic.Clflush or Mnemonic.Pause;
            if (mmx || elsewhere)
                continue;
            if (!SseNativeComparisonTests.Selects(code))
                missing.Add(code.ToString());
        }
        Assert.Empty(missing);
    }

    [HostX64Fact]
    public void ReciprocalApproximationsAreWithinTheHardwareBound()
    {
        var rng = new Random(7);
        using var m = new SseMachine();
        foreach (var (name, emit) in new (string, Action<Assembler>)[]
        {
            ("rcpps", a => a.rcpps(xmm0, xmm1)),
            ("rsqrtps", a => a.rsqrtps(xmm0, xmm1)),
            ("rcpss", a => a.rcpss(xmm0, xmm1)),
            ("rsqrtss", a => a.rsqrtss(xmm0, xmm1)),
        })
        {
            var code = SseMachine.Assemble(emit);
            for (int i = 0; i < 2000; i++)
            {
                var input = new RegisterState { Mxcsr = SseNativeComparisonTests.RandomMxcsr(rng) };
                input.Gprs[4] = DiffLayout.StackTop;
                for (int r = 0; r < 2; r++)
                    input.SetXmm(r, SseNativeComparisonTests.RandomLane(rng), SseNativeComparisonTests.RandomLane(rng));
                var native = new RegisterState();
                var data = new byte[DiffLayout.DataSize];
                NativeExecutor.Instance.Run(code.AsSpan(0, code.Length - 1), input, data, native, new byte[DiffLayout.DataSize]);

                m.Mxcsr = input.Mxcsr;
                input.Xmm.CopyTo(m.State.FxsaveArea, 160);
                var emu = m.Run(code);
                Assert.Equal(native.Mxcsr, emu.Mxcsr);
                for (int lane = 0; lane < 4; lane++)
                {
                    uint want = BinaryPrimitives.ReadUInt32LittleEndian(native.Xmm.AsSpan(4 * lane));
                    uint got = emu.U32(0, lane);
                    float w = BitConverter.UInt32BitsToSingle(want), g = BitConverter.UInt32BitsToSingle(got);
                    float x = BitConverter.UInt32BitsToSingle(BinaryPrimitives.ReadUInt32LittleEndian(input.Xmm.AsSpan(16 + 4 * lane)));
                    bool special = (lane > 0 && name.EndsWith("ss", StringComparison.Ordinal)) || !float.IsNormal(x) || (x < 0 && name.StartsWith("rsqrt", StringComparison.Ordinal));
                    if (special)
                        Assert.True(want == got, $"{name} lane {lane} of {x:R} ({BitConverter.SingleToUInt32Bits(x):x8}): host {want:x8} emu {got:x8}");
                    else if (float.IsNormal(w) && float.IsNormal(g))
                        Assert.True(Math.Abs(g - w) <= Math.Abs(w) * MathF.ScaleB(1f, -11), $"{name} lane {lane} of {x:R}: host {w:R} emu {g:R}");
                    else // near the flush-to-zero boundary of RCP: both must be tiny
                        Assert.True(Math.Abs(g) <= MathF.ScaleB(1f, -125) && Math.Abs(w) <= MathF.ScaleB(1f, -125), $"{name} lane {lane} of {x:R}: host {w:R} emu {g:R}");
                }
            }
        }
    }
}
