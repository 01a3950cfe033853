using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>The software x86-64 CPU backend: runs guests on hosts without VT-x/AMD-V.</summary>
public sealed class EmulatorBackend : IHypervisorBackend
{
    public string Name => "emulator";

    public BackendCapabilities Capabilities { get; } =
        new(BackendKind.Emulator, Environment.ProcessorCount, HardwareVirtualization: false, DirtyPageTracking: true, MaxProcessorsPerMachine: 64, InterruptControllers: InterruptControllerMode.Userspace);

    public IVirtualMachine CreateMachine(MachineConfiguration configuration) => new EmulatedMachine(configuration);
}
