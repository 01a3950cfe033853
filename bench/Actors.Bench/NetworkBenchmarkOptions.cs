namespace Actors.Bench;

/// <summary>Options of <c>network</c>: how much the sender sends, how many pings, how often, and each guest's RAM.</summary>
internal sealed record NetworkBenchmarkOptions
{
    /// <summary>What the sender sends with nc; each side holds it in RAM (/tmp in the initramfs), so it is at most half of <see cref="MemoryBytes"/>.</summary>
    public int TransferMiB { get; init; } = 32;

    /// <summary>Pings the sender sends the receiver, 0.2 s apart, before the transfer.</summary>
    public int Pings { get; init; } = 20;

    public int Runs { get; init; } = 3;

    /// <summary>Each guest's RAM, on every side.</summary>
    public ulong MemoryBytes { get; init; } = 256UL << 20;

    /// <summary>Longest one guest may take from its start to its power-off before the run counts as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
}
