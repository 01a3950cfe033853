using Actors.HwBackend.Platform;
using Xunit;

namespace Actors.HwBackend.Tests.Platform;

public sealed class MmioBusTests
{
    [Theory]
    [InlineData(1, 0xFFUL)]
    [InlineData(2, 0xFFFFUL)]
    [InlineData(4, 0xFFFF_FFFFUL)]
    [InlineData(8, ulong.MaxValue)]
    public void UnclaimedAddressesReadAllOnesForTheAccessSize(int size, ulong expected)
    {
        var bus = new MmioBus();
        bus.Register(0xFEC0_0000, 0x1000, new RecordingMmioDevice(), "ioapic");

        Assert.Equal(expected, bus.Read(0xFED0_0000, size));
        bus.Write(0xFEBF_FFFF, size, 0);
        Assert.Equal((1, 1), (bus.UnhandledReads, bus.UnhandledWrites));
    }

    [Fact]
    public void AccessesReachTheOwningDeviceWithWindowOffsetsAndTrimmedValues()
    {
        var bus = new MmioBus();
        var low = new RecordingMmioDevice(0x1122_3344_5566_7788);
        var high = new RecordingMmioDevice();
        bus.Register(0xFEC0_0000, 0x1000, low, "ioapic");
        bus.Register(0xFED0_0000, 0x400, high, "hpet");

        Assert.Equal(0x7788UL, bus.Read(0xFEC0_0010, 2));
        Assert.Equal((0x10UL, 2), low.LastRead);
        bus.Write(0xFED0_03FC, 4, 0xAAAA_BBBB_CCCC_DDDD);
        Assert.Equal((0x3FCUL, 4, 0xCCCC_DDDDUL), high.LastWrite);
        Assert.Null(low.LastWrite);
        Assert.Equal(0, bus.UnhandledReads + bus.UnhandledWrites);

        var statistics = bus.GetStatistics();
        Assert.Equal(new MmioWindowStatistics("ioapic", 0xFEC0_0000, 0x1000, 1, 0), statistics[0]);
        Assert.Equal(new MmioWindowStatistics("hpet", 0xFED0_0000, 0x400, 0, 1), statistics[1]);
    }

    [Fact]
    public void OverlappingOrEmptyWindowsAreRefused()
    {
        var bus = new MmioBus();
        bus.Register(0xFEC0_0000, 0x1000, new RecordingMmioDevice(), "ioapic");

        var overlap = Assert.Throws<ArgumentException>(() => bus.Register(0xFEC0_0800, 0x1000, new RecordingMmioDevice(), "other"));
        Assert.Contains("overlaps 'ioapic'", overlap.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => bus.Register(0x1000, 0, new RecordingMmioDevice(), "empty"));
        Assert.Throws<ArgumentOutOfRangeException>(() => bus.Register(ulong.MaxValue - 0xFFF, 0x2000, new RecordingMmioDevice(), "wraps"));
    }

    [Fact]
    public void OddAccessSizesAreRefused()
    {
        var bus = new MmioBus();
        Assert.Throws<ArgumentOutOfRangeException>(() => bus.Read(0, 3));
    }

    private sealed class RecordingMmioDevice(ulong value = 0) : IMmioDevice
    {
        public (ulong Offset, int Size)? LastRead { get; private set; }

        public (ulong Offset, int Size, ulong Value)? LastWrite { get; private set; }

        public ulong Read(ulong offset, int size)
        {
            LastRead = (offset, size);
            return value;
        }

        public void Write(ulong offset, int size, ulong value) => LastWrite = (offset, size, value);
    }
}
