namespace Actors.Bench;

/// <summary>
/// Options of the <c>migrate</c> benchmark; QEMU runs as often as ours unless <see cref="QemuRuns"/> says otherwise.
/// <see cref="Tls"/> runs ours again between silos speaking mutual TLS. <see cref="Linux"/> moves a stock Linux
/// busy in its shell instead of migrate-verify.
/// </summary>
internal sealed record MigrationBenchmarkOptions(int MemoryMiB = 256, int MaxDowntimeMilliseconds = 20, int Runs = 3, int? QemuRuns = null, bool Tls = false, bool Linux = false, int Processors = 1);
