namespace Actors.HwBackend.Abstractions;

/// <summary>What a backend needs to create a machine: all of it decided by the platform (see <c>PcMachine</c>).</summary>
/// <param name="Memory">The guest-physical map: RAM regions and MMIO windows.</param>
/// <param name="ProcessorCount">vCPUs, 1 or more.</param>
/// <param name="InterruptControllers">Where the interrupt controllers live: one of the backend's <see cref="BackendCapabilities.InterruptControllers"/>.</param>
/// <param name="Clock">The machine's time: its vCPUs derive their TSC from it, as the platform's timers do.</param>
public sealed record MachineConfiguration(GuestMemoryLayout Memory, int ProcessorCount, InterruptControllerMode InterruptControllers, IPlatformClock Clock);
