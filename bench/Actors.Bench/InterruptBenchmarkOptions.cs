namespace Actors.Bench;

/// <summary>Options of the <c>interrupts</c> benchmark.</summary>
internal sealed record InterruptBenchmarkOptions(int Samples = 500, int TimerHz = 1000, int Seconds = 1);
