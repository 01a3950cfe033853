using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Boot;

/// <summary>
/// The result of loading a guest image: the state vCPU 0 starts from and where things landed in
/// guest-physical memory.
/// </summary>
/// <param name="Format">How the image was recognised.</param>
/// <param name="InitialState">The entry state for vCPU 0; hand it to <c>IVirtualProcessor.SetState</c>.</param>
/// <param name="EntryPoint">The address execution starts at (RIP of <paramref name="InitialState"/>).</param>
/// <param name="ImageStart">Lowest guest-physical address the image occupies.</param>
/// <param name="ImageEnd">One past the highest guest-physical address the image occupies, bss included.</param>
/// <param name="BootInfoAddress">Guest-physical address of the Multiboot information structure (also in EBX), or of a Linux kernel's zero page (also in RSI).</param>
/// <param name="PageTableRoot">CR3 for <see cref="GuestImageFormat.Elf64"/> images; 0 when paging is off.</param>
public sealed record LoadedGuestImage(
    GuestImageFormat Format,
    VpState InitialState,
    ulong EntryPoint,
    ulong ImageStart,
    ulong ImageEnd,
    ulong BootInfoAddress,
    ulong PageTableRoot);
