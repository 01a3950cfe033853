namespace Actors.Bench;

/// <summary>Options of <c>vmbus-fuzz</c>: how long to fuzz, and the seed (null: a fresh one, printed so a failure can be replayed).</summary>
internal sealed record VmBusFuzzOptions(int Seconds = 60, int? Seed = null);
