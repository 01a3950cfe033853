using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>A one-vCPU software-CPU machine with the PC's memory layout, for tests that drive the CPU without a platform.</summary>
internal static class TestMachines
{
    public static IVirtualMachine Create(ulong memoryBytes)
    {
        var backend = new EmulatorBackend();
        return backend.CreateMachine(PcMachine.Configuration(backend.Capabilities, memoryBytes, 1, new PlatformClock()));
    }
}
