namespace Actors.Grains;

/// <summary>What a host's hardware backend offers the VMs placed on it, as its root partition advertises it.</summary>
/// <param name="HardwareVirtualization">Whether vCPUs run on VT-x/AMD-V (KVM) rather than the software CPU.</param>
/// <param name="DirtyPageTracking">Whether the backend logs the pages a guest writes, which live migration needs.</param>
/// <param name="InterruptControllers">Where a machine's interrupt controllers can be modelled: "userspace" (device models in the silo), "split" (local APICs in the kernel), "in-kernel".</param>
/// <param name="MaxProcessorsPerMachine">The most vCPUs one machine can have there.</param>
[GenerateSerializer]
[Alias("Actors.HostCapabilities")]
public sealed record HostCapabilities(
    [property: Id(0)] bool HardwareVirtualization,
    [property: Id(1)] bool DirtyPageTracking,
    [property: Id(2)] IReadOnlyList<string> InterruptControllers,
    [property: Id(3)] int MaxProcessorsPerMachine);
