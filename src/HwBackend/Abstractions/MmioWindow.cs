namespace Actors.HwBackend.Abstractions;

/// <summary>A guest-physical range that is not RAM: every access to it exits to the platform's MMIO bus.</summary>
public readonly record struct MmioWindow(string Name, ulong Base, ulong Size);
