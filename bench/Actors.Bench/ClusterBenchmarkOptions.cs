namespace Actors.Bench;

/// <summary>
/// Options of <c>cluster</c>: how many starts to time, idle partitions to run, and console bytes to stream;
/// <see cref="Tls"/> measures starts and console again on a silo and client speaking mutual TLS.
/// </summary>
internal sealed record ClusterBenchmarkOptions(int Starts = 15, int IdlePartitions = 48, int FloodBytes = 4 << 20, int FloodRuns = 3, bool Tls = false);
