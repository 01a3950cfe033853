using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Platform;
using Xunit;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>A software-CPU machine (one vCPU unless asked) with the PC's memory layout, for tests that drive the CPU without a platform.</summary>
internal static class TestMachines
{
    public static IVirtualMachine Create(ulong memoryBytes, int processors = 1, CpuTierOptions? tier = null)
    {
        var backend = new EmulatorBackend(tier);
        return backend.CreateMachine(PcMachine.Configuration(backend.Capabilities, memoryBytes, processors, new PlatformClock()));
    }
}

/// <summary>The software CPU's tiers as tests run them: the translator translates every block before it first runs.</summary>
internal static class TestTiers
{
    public static CpuTierOptions EveryBlockTranslated { get; } = new(CpuTier.Translator, Threshold: 1, OnVcpuThread: true);

    public static CpuTierOptions For(CpuTier tier) => tier == CpuTier.Translator ? EveryBlockTranslated : CpuTierOptions.Interpreted;

    /// <summary>Both tiers, for theories that run a test on each.</summary>
    public static TheoryData<CpuTier> Both => [CpuTier.Interpreter, CpuTier.Translator];
}
