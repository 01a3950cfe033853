namespace Actors.HwBackend.Abstractions;

/// <summary>
/// A machine's guest-physical map as its platform decides it: where its RAM appears and which
/// windows are MMIO. A backend maps exactly this (the software CPU into its <c>GuestPhysicalMap</c>,
/// KVM into memory slots) and decides none of it.
/// </summary>
public sealed record GuestMemoryLayout(ulong RamBytes, IReadOnlyList<RamRegion> Ram, IReadOnlyList<MmioWindow> Mmio);
