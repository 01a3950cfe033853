using Actors.HwBackend.Emulation.Tiers;

namespace Actors.Bench;

/// <summary>Options of <c>linux</c>: the kernel, initrd and command line both sides boot, and how often.</summary>
internal sealed record LinuxBenchmarkOptions
{
    /// <summary>The kernel; null for the stock Debian one of guests/linux, with an initrd that prints the marker and powers off.</summary>
    public string? Kernel { get; init; }

    public string? Initrd { get; init; }

    public string Append { get; init; } = "console=ttyS0 panic=-1";

    public int Processors { get; init; } = 1;

    public ulong MemoryBytes { get; init; } = 256UL << 20;

    public int Runs { get; init; } = 3;

    public bool Console { get; init; }

    public bool VersusQemu { get; init; }

    /// <summary>Whether Actors' VM is enlightened (Hyper-V CPUID, synthetic MSRs, hypercalls); QEMU TCG's never is.</summary>
    public bool Enlightened { get; init; }

    /// <summary>Where to write a sampled profile of every vCPU's RIP, or null for none.</summary>
    public string? ProfilePath { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The software CPU's tiers to boot on, each in every run.</summary>
    public CpuTier[] Tiers { get; init; } = [CpuTierOptions.DefaultTier];

    /// <summary>How many times a block runs interpreted before the translator takes it.</summary>
    public int Threshold { get; init; } = CpuTierOptions.DefaultThreshold;
}
