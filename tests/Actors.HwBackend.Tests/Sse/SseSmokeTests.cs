using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Sse;

public sealed class SseSmokeTests
{
    [Fact]
    public void AddsdRuns()
    {
        using var m = new SseMachine();
        m.SetXmm(0, 1.5, 7.0);
        m.SetXmm(1, 2.25, 9.0);
        var r = m.Run(a => a.addsd(xmm0, xmm1));
        Assert.Equal(-1, r.Vector);
        Assert.Equal(VpExitReason.Halt, r.Exit.Reason);
        Assert.Equal(3.75, r.D(0));
        Assert.Equal(7.0, r.D(0, 1));
    }
}
