namespace Actors.HwBackend.Abstractions;

public enum BackendKind
{
    Emulator,
    Kvm,
}

/// <summary>What a backend on this host offers.</summary>
public sealed record BackendCapabilities(BackendKind Kind, int HostCores, bool HardwareVirtualization, bool DirtyPageTracking, int MaxProcessorsPerMachine);
