using Actors.HwBackend.Emulation.Tiers;

namespace Actors.Bench;

/// <summary>Options of the <c>hypercalls</c> benchmark.</summary>
internal sealed record HypercallBenchmarkOptions
{
    /// <summary>Pairs of runs per round-trip case; each case reports the median of their estimates.</summary>
    public int Runs { get; init; } = 5;

    /// <summary>How long the longer run of a pair should loop: its iteration count is sized to this.</summary>
    public int LoopSeconds { get; init; } = 1;

    /// <summary>Linux VMs per configuration (with and without enlightenments) for the memory figure; 0 skips it.</summary>
    public int LinuxVms { get; init; } = 4;

    /// <summary>Heartbeat round trips per VSP placement (as many again warm up first); 0 skips the VSP figure.</summary>
    public int VspSamples { get; init; } = HeartbeatSamples;

    /// <summary>The heartbeat keeps this many round trips for its median.</summary>
    public const int HeartbeatSamples = Actors.HwBackend.VmBus.IntegrationServices.HeartbeatService.RoundTripSamples;

    /// <summary>Guest RAM of each Linux VM.</summary>
    public ulong LinuxMemoryBytes { get; init; } = 128UL << 20;

    /// <summary>How the software CPU runs our guests.</summary>
    public CpuTier Tier { get; init; } = CpuTierOptions.DefaultTier;

    /// <summary>Longest a single guest run, or a Linux VM's boot to idle, may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
}
