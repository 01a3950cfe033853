using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation.Tiers;

namespace Actors.HwBackend.Emulation;

/// <summary>The software x86-64 CPU backend: runs guests on hosts without VT-x/AMD-V.</summary>
/// <param name="tier">How its machines run guest code; interpreted when not given.</param>
public sealed class EmulatorBackend(CpuTierOptions? tier = null) : IHypervisorBackend
{
    public string Name => "emulator";

    public BackendCapabilities Capabilities { get; } =
        new(BackendKind.Emulator, Environment.ProcessorCount, HardwareVirtualization: false, DirtyPageTracking: true, MaxProcessorsPerMachine: 64, InterruptControllers: InterruptControllerMode.Userspace);

    public IVirtualMachine CreateMachine(MachineConfiguration configuration) => new EmulatedMachine(configuration, Tier);

    /// <summary>This backend with its machines on <paramref name="tier"/> (this one when it already is).</summary>
    public EmulatorBackend WithTier(CpuTier tier) => tier == Tier.Tier ? this : new EmulatorBackend(Tier with { Tier = tier });

    /// <summary>How this backend's machines run guest code.</summary>
    public CpuTierOptions Tier { get; } = tier ?? CpuTierOptions.Interpreted;
}
