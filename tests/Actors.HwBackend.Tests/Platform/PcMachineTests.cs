using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Platform;
using Xunit;

namespace Actors.HwBackend.Tests.Platform;

public sealed class PcMachineTests
{
    [Fact]
    public void Small_machines_have_one_RAM_region_from_zero_and_the_APIC_windows()
    {
        GuestMemoryLayout layout = PcMachine.MemoryLayout(64UL << 20);

        Assert.Equal([new RamRegion("ram-low", 0, 64UL << 20, 0)], layout.Ram);
        Assert.Equal([new MmioWindow("ioapic", 0xFEC0_0000, 0x1000), new MmioWindow("lapic", 0xFEE0_0000, 0x1000)], layout.Mmio);
    }

    [Fact]
    public void RAM_beyond_the_3_GiB_hole_continues_above_4_GiB()
    {
        GuestMemoryLayout layout = PcMachine.MemoryLayout(4UL << 30);

        Assert.Equal([new RamRegion("ram-low", 0, 3UL << 30, 0), new RamRegion("ram-high", 4UL << 30, 1UL << 30, 3UL << 30)], layout.Ram);
    }

    [Fact]
    public void The_platform_picks_userspace_controllers_and_refuses_a_backend_without_them()
    {
        var emulator = new EmulatorBackend();
        MachineConfiguration configuration = PcMachine.Configuration(emulator.Capabilities, 16UL << 20, 2, new PlatformClock());
        Assert.Equal(InterruptControllerMode.Userspace, configuration.InterruptControllers);
        Assert.Equal(2, configuration.ProcessorCount);

        var inKernelOnly = emulator.Capabilities with { Kind = BackendKind.Kvm, InterruptControllers = InterruptControllerMode.InKernel };
        var e = Assert.Throws<ArgumentException>(() => PcMachine.Configuration(inKernelOnly, 16UL << 20, 1, new PlatformClock()));
        Assert.Contains("the PC platform needs Userspace", e.Message);
    }

    [Fact]
    public void The_software_CPU_maps_exactly_the_layout_it_is_given()
    {
        var emulator = new EmulatorBackend();
        MachineConfiguration configuration = PcMachine.Configuration(emulator.Capabilities, 16UL << 20, 1, new PlatformClock());
        using IVirtualMachine machine = emulator.CreateMachine(configuration);

        Assert.True(machine.Memory.IsRam(0, 16UL << 20));
        Assert.Equal(["ram-low", "ioapic", "lapic"], machine.Memory.Regions.Select(r => r.Name));
        Assert.Throws<ArgumentException>(() => emulator.CreateMachine(configuration with { InterruptControllers = InterruptControllerMode.Split }));
    }
}
