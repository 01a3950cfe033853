using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Sse;

/// <summary>Whole programs: gcc output for scalar and vectorised C, and a hot loop that must not allocate.</summary>
public sealed class SseProgramTests
{
    private const ulong Buffer = 0x180000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GccCompiledKernelsMatchTheHostResults(bool o3)
    {
        using var m = new SseMachine();
        m.WritePhysical(GccKernelImages.LoadAddress, o3 ? GccKernelImages.O3 : GccKernelImages.O2);
        ulong entry = o3 ? GccKernelImages.RunO3 : GccKernelImages.RunO2;
        var r = m.Run(a =>
        {
            a.mov(rdi, Buffer);
            a.mov(rax, entry);
            a.call(rax);
        });
        Assert.Equal(-1, r.Vector);
        Assert.Equal(VpExitReason.Halt, r.Exit.Reason);
        for (int i = 0; i < GccKernelImages.ExpectedOut.Length; i++)
            Assert.Equal(GccKernelImages.ExpectedOut[i], m.ReadPhysical64(Buffer + 0xF000 + (ulong)(8 * i)));
        Assert.Equal(GccKernelImages.ExpectedReturn, r.Gpr(0));
    }

    [Fact]
    public void HotSseLoopDoesNotAllocate()
    {
        using var m = new SseMachine();
        m.SetXmm(1, 1.0000001, 0.5);
        m.SetXmm(5, 0x0001_0002_0003_0004UL, 0x0005_0006_0007_0008UL);
        m.State.Gprs[6] = SseMachine.DataBase;
        var code = SseMachine.Assemble(a =>
        {
            var loop = a.CreateLabel();
            a.mov(ecx, 200_000);
            a.Label(ref loop);
            a.cvtsi2sd(xmm0, ecx);
            a.mulsd(xmm0, xmm1);
            a.addsd(xmm2, xmm0);
            a.sqrtsd(xmm3, xmm2);
            a.divpd(xmm3, xmm1);
            a.movdqa(xmm4, __xmmword_ptr[rsi]);
            a.paddw(xmm4, xmm5);
            a.pmaddwd(xmm4, xmm5);
            a.pshufd(xmm6, xmm4, 0x1B);
            a.movdqa(__xmmword_ptr[rsi], xmm6);
            a.cvttsd2si(eax, xmm3);
            a.ucomisd(xmm0, xmm1);
            a.dec(ecx);
            a.jnz(loop);
        });
        m.Run(code); // builds and caches the blocks
        long before = GC.GetAllocatedBytesForCurrentThread();
        var r = m.Run(code);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(-1, r.Vector);
        // 2.8 million instructions; state capture and a block rebuild allocate a little, handlers nothing.
        Assert.True(allocated < 256 * 1024, $"{allocated} bytes allocated");
    }
}
