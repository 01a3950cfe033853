using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Devices.Apic;

namespace Actors.HwBackend.Platform;

/// <summary>
/// The PC's layout, decided here once for every backend: RAM from 0 up to the 3 GiB hole, the rest
/// above 4 GiB (as QEMU's <c>pc</c> machine places it), the IOAPIC and local APIC windows as MMIO,
/// and the interrupt-controller mode the platform's device models need.
/// </summary>
public static class PcMachine
{
    /// <summary>Where low RAM ends: the space up to 4 GiB is left for MMIO (APICs, later PCI).</summary>
    public const ulong LowRamLimit = 0xC000_0000;

    public const ulong HighRamBase = 0x1_0000_0000;

    public const ulong ApicWindowSize = 0x1000;

    public static GuestMemoryLayout MemoryLayout(ulong memoryBytes)
    {
        ulong low = Math.Min(memoryBytes, LowRamLimit);
        var ram = new List<RamRegion> { new("ram-low", 0, low, 0) };
        if (memoryBytes > low)
            ram.Add(new RamRegion("ram-high", HighRamBase, memoryBytes - low, low));
        MmioWindow[] mmio =
        [
            new("ioapic", IoApic.DefaultBase, ApicWindowSize),
            new("lapic", LocalApic.DefaultBase, ApicWindowSize),
        ];
        return new GuestMemoryLayout(memoryBytes, ram, mmio);
    }

    /// <summary>
    /// The configuration <paramref name="backend"/> builds a PC with. The PC platform models every
    /// interrupt controller itself today, so it needs a backend that offers userspace controllers.
    /// </summary>
    /// <exception cref="ArgumentException">The backend offers no mode the platform can run.</exception>
    public static MachineConfiguration Configuration(BackendCapabilities backend, ulong memoryBytes, int processorCount, IPlatformClock clock)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if ((backend.InterruptControllers & InterruptControllerMode.Userspace) == 0)
            throw new ArgumentException($"the {backend.Kind} backend offers {backend.InterruptControllers} interrupt controllers; the PC platform needs {InterruptControllerMode.Userspace}", nameof(backend));
        return new MachineConfiguration(MemoryLayout(memoryBytes), processorCount, InterruptControllerMode.Userspace, clock);
    }
}
