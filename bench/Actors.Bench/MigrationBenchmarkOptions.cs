namespace Actors.Bench;

/// <summary>Options of the <c>migrate</c> benchmark.</summary>
internal sealed record MigrationBenchmarkOptions(int MemoryMiB = 256, int MaxDowntimeMilliseconds = 20, int Runs = 3);
