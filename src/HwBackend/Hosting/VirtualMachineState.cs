namespace Actors.HwBackend.Hosting;

/// <summary>A machine's state apart from its RAM: the platform (devices and clock) and every vCPU's registers, in index order.</summary>
public sealed record VirtualMachineState(PlatformState Platform, VpState[] Processors);
