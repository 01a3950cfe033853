namespace Actors.Bench;

/// <summary>Options of the <c>dashboard</c> benchmark: how many state changes are timed (pause and resume in turn).</summary>
internal sealed record DashboardBenchmarkOptions(int Changes = 20);
