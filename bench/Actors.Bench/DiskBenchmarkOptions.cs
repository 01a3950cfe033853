namespace Actors.Bench;

/// <summary>Options of <c>disk</c>: how much the guest writes and reads, how often, and whether the cluster paths are measured too.</summary>
internal sealed record DiskBenchmarkOptions
{
    /// <summary>
    /// The disk's size and the sequential phases' length. The guest holds its write pattern in RAM
    /// (/tmp in the initramfs) so that reading it costs no disk I/O; 128 MiB of 256 leaves the kernel room.
    /// </summary>
    public const int MaxSizeMiB = 128;

    public int SizeMiB { get; init; } = 64;

    public int Runs { get; init; } = 3;

    /// <summary>4 KiB random writes, and as many random reads, per run.</summary>
    public int RandomIos { get; init; } = 500;

    /// <summary>Whether to measure the VM's disk behind its owner grain too, on the VM's silo and on another.</summary>
    public bool Remote { get; init; }

    /// <summary>Guest RAM on every side.</summary>
    public ulong MemoryBytes { get; init; } = 256UL << 20;

    /// <summary>Longest one guest may take from boot to power-off before the run counts as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
}
