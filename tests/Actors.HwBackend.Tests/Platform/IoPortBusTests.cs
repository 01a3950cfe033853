using Actors.HwBackend.Platform;
using Actors.HwBackend.Tests.Devices;
using Xunit;

namespace Actors.HwBackend.Tests.Platform;

public sealed class IoPortBusTests
{
    [Theory]
    [InlineData(1, 0xFFU)]
    [InlineData(2, 0xFFFFU)]
    [InlineData(4, 0xFFFF_FFFFU)]
    public void UnclaimedPortsReadAllOnesForTheAccessSize(int size, uint expected)
    {
        var bus = new IoPortBus();

        Assert.Equal(expected, bus.Read(0x80, size));
        Assert.Equal(1, bus.UnhandledReads);
    }

    [Fact]
    public void UnclaimedWritesAreIgnoredAndCounted()
    {
        var bus = new IoPortBus();
        var device = new RecordingPortDevice();
        bus.Register(0x60, 1, device, "kbd");

        bus.Write(0x61, 1, 0xAB);
        bus.Write(0x64, 4, 0xAB);

        Assert.Null(device.LastWrite);
        Assert.Equal(2, bus.UnhandledWrites);
        Assert.Equal(0, bus.UnhandledReads);
    }

    [Fact]
    public void AccessesReachTheOwningDeviceWithAbsolutePortAndTrimmedValues()
    {
        var bus = new IoPortBus();
        var device = new RecordingPortDevice(0xAABB_CCDD);
        bus.Register(0x510, 2, device, "fw_cfg");

        Assert.Equal(0xDDU, bus.Read(0x511, 1));
        Assert.Equal(((ushort)0x511, 1), device.LastRead);
        Assert.Equal(0xCCDDU, bus.Read(0x510, 2));

        bus.Write(0x510, 2, 0xFFFF_0019);
        Assert.Equal(((ushort)0x510, 2, 0x19U), device.LastWrite);
        Assert.Equal(0, bus.UnhandledReads + bus.UnhandledWrites);
    }

    [Fact]
    public void StatisticsCountAccessesPerRange()
    {
        var bus = new IoPortBus();
        bus.Register(0x3F8, 8, new RecordingPortDevice(), "com1");
        bus.Register(0xF4, 4, new RecordingPortDevice(), "debug-exit");

        bus.Read(0x3FD, 1);
        bus.Read(0x3FD, 1);
        bus.Write(0x3F8, 1, 'a');
        bus.Write(0xF4, 4, 0);

        Assert.Equal(
            [new PortRangeStatistics("com1", 0x3F8, 8, 2, 1), new PortRangeStatistics("debug-exit", 0xF4, 4, 0, 1)],
            bus.GetStatistics());
    }

    [Fact]
    public void OverlappingRangesAreRefused()
    {
        var bus = new IoPortBus();
        bus.Register(0x3F8, 8, new RecordingPortDevice(), "com1");

        var ex = Assert.Throws<ArgumentException>(() => bus.Register(0x3FF, 2, new RecordingPortDevice(), "other"));

        Assert.Contains("com1", ex.Message);
        Assert.Equal(0xFFU, bus.Read(0x400, 1)); // the refused range left nothing behind
    }

    [Theory]
    [InlineData(0xFFFF, 2)]
    [InlineData(0x10, 0)]
    public void RangesMustFitThePortSpace(int basePort, int count)
    {
        var bus = new IoPortBus();

        Assert.Throws<ArgumentOutOfRangeException>(() => bus.Register((ushort)basePort, count, new RecordingPortDevice(), "bad"));
    }

    [Fact]
    public void TheLastPortCanBeClaimed()
    {
        var bus = new IoPortBus();
        var device = new RecordingPortDevice(7);
        bus.Register(0xFFFF, 1, device, "top");

        Assert.Equal(7U, bus.Read(0xFFFF, 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(8)]
    public void OddAccessSizesAreAProgrammingError(int size)
    {
        var bus = new IoPortBus();

        Assert.Throws<ArgumentOutOfRangeException>(() => bus.Read(0x80, size));
    }

    [Fact]
    public void DispatchDoesNotAllocate()
    {
        var bus = new IoPortBus();
        bus.Register(0x70, 2, new RecordingPortDevice(), "rtc");
        for (int i = 0; i < 100; i++)
            Exercise(bus);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10000; i++)
            Exercise(bus);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void Exercise(IoPortBus bus)
        {
            bus.Read(0x71, 1);
            bus.Write(0x70, 1, 0x0A);
            bus.Read(0x80, 4);
            bus.Write(0x80, 1, 0);
        }
    }
}
