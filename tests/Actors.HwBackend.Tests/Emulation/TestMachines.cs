using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>A software-CPU machine (one vCPU unless asked) with the PC's memory layout, for tests that drive the CPU without a platform.</summary>
internal static class TestMachines
{
    public static IVirtualMachine Create(ulong memoryBytes, int processors = 1)
    {
        var backend = new EmulatorBackend();
        return backend.CreateMachine(PcMachine.Configuration(backend.Capabilities, memoryBytes, processors, new PlatformClock()));
    }
}
