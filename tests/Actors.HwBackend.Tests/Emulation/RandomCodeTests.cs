using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation.Tiers;
using Xunit;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// Random bytes as code: whatever they decode to (faults, privileged instructions, writes over the page
/// tables and the IDT, mode changes, port I/O), the vCPU ends its run with an exit and never with a host
/// exception, on both tiers of the software CPU.
/// </summary>
public sealed class RandomCodeTests
{
    private const int Seeds = 150;
    private const int CodeBytes = 4096;

    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void Random_code_pages_end_in_an_exit_and_never_in_a_host_exception(CpuTier tier)
    {
        var failures = new List<string>();
        var exits = new HashSet<VpExitReason>();
        for (int seed = 1; seed <= Seeds; seed++)
        {
            using var m = new LongModeMachine(tier: TestTiers.For(tier));
            var code = new byte[CodeBytes];
            new Random(seed).NextBytes(code);
            m.Machine.Memory.Write(LongModeMachine.CodeBase, code);
            m.Load(LongModeMachine.HandlerBase, a => a.hlt());
            for (int vector = 0; vector < 256; vector++)
                m.SetGate(vector, LongModeMachine.HandlerBase);
            m.Vp.SetState(m.InitialState());

            // Random code may loop; the stop request bounds every run.
            using var stop = new Timer(_ => m.Vp.RequestStop(), null, 50, Timeout.Infinite);
            try
            {
                exits.Add(m.Vp.Run().Reason);
            }
            catch (Exception e)
            {
                failures.Add($"seed {seed}: {e.GetType().Name}: {e.Message}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.NotEmpty(exits);
    }
}
