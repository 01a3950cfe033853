namespace Actors.HwBackend.Abstractions;

public enum BackendKind
{
    Emulator,
    Kvm,
}

/// <summary>What a backend on this host offers.</summary>
/// <param name="InterruptControllers">Every <see cref="InterruptControllerMode"/> the backend can run a machine with.</param>
public sealed record BackendCapabilities(BackendKind Kind, int HostCores, bool HardwareVirtualization, bool DirtyPageTracking, int MaxProcessorsPerMachine, InterruptControllerMode InterruptControllers);
