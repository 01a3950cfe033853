namespace Actors.HwBackend.Platform;

/// <summary>How often the guest accessed one registered MMIO window.</summary>
public readonly record struct MmioWindowStatistics(string Name, ulong Base, ulong Size, long Reads, long Writes);
