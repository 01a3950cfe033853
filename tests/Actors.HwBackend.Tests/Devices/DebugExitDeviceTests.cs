using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Platform;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class DebugExitDeviceTests
{
    [Theory]
    [InlineData(0U, 1)] // kvm-unit-tests' PASS
    [InlineData(1U, 3)]
    [InlineData(0x10U, 0x21)]
    [InlineData(0x7FU, 0xFF)]
    [InlineData(0xFFFF_FFFFU, -1)] // (v << 1) | 1 in 32 bits, as QEMU computes it
    public void WriteRequestsExitWithQemusStatusEncoding(uint value, int expected)
    {
        var statuses = new List<int>();
        var device = new DebugExitDevice(statuses.Add);

        device.Write(DebugExitDevice.DefaultPort, 4, value);

        Assert.Equal([expected], statuses);
    }

    [Fact]
    public void ByteWritesThroughTheBusCarryOnlyTheByte()
    {
        var statuses = new List<int>();
        var bus = new IoPortBus();
        bus.Register(DebugExitDevice.DefaultPort, DebugExitDevice.PortCount, new DebugExitDevice(statuses.Add), "isa-debug-exit");

        bus.Write(0xF4, 1, 0x1_02);
        bus.Write(0xF7, 1, 0x03); // any port of the four

        Assert.Equal([5, 7], statuses);
    }

    [Fact]
    public void ReadsFloatHigh()
    {
        var device = new DebugExitDevice(_ => Assert.Fail("a read must not exit"));

        Assert.Equal(0xFFFF_FFFFU, device.Read(DebugExitDevice.DefaultPort, 4));
    }
}
