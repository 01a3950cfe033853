using Actors.HwBackend.Emulation.Tiers;

namespace Actors.Bench;

internal sealed record GuestBenchmarkOptions(string ImagePath, ulong MemoryBytes, bool Console, bool VersusQemu, TimeSpan? Timeout, CpuTier[] Tiers, int Threshold);
