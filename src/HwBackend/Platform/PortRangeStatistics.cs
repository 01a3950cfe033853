namespace Actors.HwBackend.Platform;

/// <summary>How often the guest accessed one registered port range.</summary>
public readonly record struct PortRangeStatistics(string Name, ushort BasePort, int PortCount, long Reads, long Writes);
