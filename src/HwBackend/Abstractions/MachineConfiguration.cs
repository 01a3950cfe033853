using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Abstractions;

/// <summary>What a backend needs to create a machine.</summary>
public sealed record MachineConfiguration(ulong MemoryBytes, int ProcessorCount = 1)
{
    /// <summary>The machine's time: its vCPUs derive their TSC from it, as the platform's timers do.</summary>
    public IPlatformClock Clock { get; init; } = new PlatformClock();

    /// <summary>The local APIC and IOAPIC windows, kept out of RAM and reported as MMIO exits.</summary>
    public static readonly (string Name, ulong Base, ulong Size)[] PlatformMmio =
    [
        ("ioapic", 0xFEC0_0000, 0x1000),
        ("lapic", 0xFEE0_0000, 0x1000),
    ];
}
