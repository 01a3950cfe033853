namespace Actors.Bench;

internal sealed record GuestBenchmarkOptions(string ImagePath, ulong MemoryBytes, bool Console, bool VersusQemu, TimeSpan? Timeout);
