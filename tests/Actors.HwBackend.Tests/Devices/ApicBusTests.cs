using Actors.HwBackend.Devices.Apic;
using Xunit;
using static Actors.HwBackend.Devices.Apic.LocalApic;

namespace Actors.HwBackend.Tests.Devices;

public sealed class ApicBusTests
{
    private readonly ManualClock _clock = new();
    private readonly ApicBus _bus = new();

    /// <summary>Attaches software-enabled APICs with IDs <paramref name="ids"/>, the first one bootstrap.</summary>
    private LocalApic[] Machine(params uint[] ids)
    {
        var apics = new LocalApic[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            apics[i] = new LocalApic(ids[i], i == 0, _clock, _bus, new RecordingApicSink());
            _bus.Attach(apics[i]);
            apics[i].WriteMmio(SvrOffset, 4, 0x1FF);
        }
        return apics;
    }

    private static void SendIpi(LocalApic from, uint destination, uint icrLow)
    {
        from.WriteMmio(IcrHighOffset, 4, destination << 24);
        from.WriteMmio(IcrLowOffset, 4, icrLow);
    }

    private static bool[] Received(LocalApic[] apics, int vector) => [.. apics.Select(a => LocalApicTests.Irr(a, vector))];

    [Fact]
    public void PhysicalDestinationReachesTheMatchingIdOnly()
    {
        var apics = Machine(0, 1, 2);
        SendIpi(apics[0], 2, 0x50);
        Assert.Equal([false, false, true], Received(apics, 0x50));
        Assert.Equal(0u, (uint)apics[0].ReadMmio(IcrLowOffset, 4) & (1u << 12)); // delivery status idle
    }

    [Fact]
    public void PhysicalBroadcastReachesEveryone()
    {
        var apics = Machine(0, 1, 2);
        SendIpi(apics[1], 0xFF, 0x51);
        Assert.Equal([true, true, true], Received(apics, 0x51));
    }

    [Fact]
    public void DestinationMatchingNobodyIsDroppedSilently()
    {
        var apics = Machine(0, 1, 2);
        SendIpi(apics[0], 7, 0x52);
        SendIpi(apics[0], 7, 0x800 | 0x53); // logical, LDRs are all zero
        SendIpi(apics[0], 7, 0x153);        // lowest priority to nobody
        Assert.Equal([false, false, false], Received(apics, 0x52));
        Assert.Equal([false, false, false], Received(apics, 0x53));
        _bus.Deliver(new ApicMessage(ApicDeliveryMode.Fixed, 0x54, 0xDEAD_BEEF, false, ApicShorthand.None, false, true, 0));
        Assert.Equal([false, false, false], Received(apics, 0x54));
    }

    [Fact]
    public void LogicalFlatModeMatchesAnyCommonLdrBit()
    {
        var apics = Machine(0, 1, 2);
        for (int i = 0; i < 3; i++)
            apics[i].WriteMmio(LdrOffset, 4, (1u << i) << 24);
        SendIpi(apics[0], 0x06, 0x800 | 0x60);
        Assert.Equal([false, true, true], Received(apics, 0x60));
        SendIpi(apics[0], 0x01, 0x800 | 0x61);
        Assert.Equal([true, false, false], Received(apics, 0x61));
    }

    [Fact]
    public void LogicalClusterModeMatchesClusterAndMemberBits()
    {
        var apics = Machine(0, 1, 2);
        uint[] ldrs = [0x11, 0x12, 0x21];
        for (int i = 0; i < 3; i++)
        {
            apics[i].WriteMmio(DfrOffset, 4, 0x0FFF_FFFF);
            apics[i].WriteMmio(LdrOffset, 4, ldrs[i] << 24);
        }
        Assert.Equal(0x0FFF_FFFFu, (uint)apics[0].ReadMmio(DfrOffset, 4));
        SendIpi(apics[0], 0x13, 0x800 | 0x62);
        Assert.Equal([true, true, false], Received(apics, 0x62));
        SendIpi(apics[0], 0x23, 0x800 | 0x63);
        Assert.Equal([false, false, true], Received(apics, 0x63));
        SendIpi(apics[0], 0x14, 0x800 | 0x64); // cluster 1, member bit nobody has
        Assert.Equal([false, false, false], Received(apics, 0x64));
    }

    [Fact]
    public void X2ApicLogicalUsesClusterAndBitmaskFromTheId()
    {
        var apics = Machine(0x00, 0x01, 0x11);
        foreach (var apic in apics)
            Assert.True(apic.TryWriteApicBaseMsr(apic.ApicBaseMsr | BaseMsrX2Apic));
        // Cluster 0, members 0 and 1.
        Assert.True(apics[0].TryWriteMsr(X2ApicIcrMsr, (0x0000_0003UL << 32) | 0x800 | 0x70));
        Assert.Equal([true, true, false], Received(apics, 0x70));
        // Cluster 1, member 1.
        Assert.True(apics[0].TryWriteMsr(X2ApicIcrMsr, (0x0001_0002UL << 32) | 0x800 | 0x71));
        Assert.Equal([false, false, true], Received(apics, 0x71));
        // x2APIC physical broadcast.
        Assert.True(apics[0].TryWriteMsr(X2ApicIcrMsr, (0xFFFF_FFFFUL << 32) | 0x72));
        Assert.Equal([true, true, true], Received(apics, 0x72));
    }

    [Theory]
    [InlineData(1u, new[] { true, false, false })]
    [InlineData(2u, new[] { true, true, true })]
    [InlineData(3u, new[] { false, true, true })]
    public void ShorthandsIgnoreTheDestination(uint shorthand, bool[] expected)
    {
        var apics = Machine(0, 1, 2);
        SendIpi(apics[0], 1, (shorthand << 18) | 0x80);
        Assert.Equal(expected, Received(apics, 0x80));
    }

    [Fact]
    public void LowestPriorityPicksTheLowestTprAndBreaksTiesByIndex()
    {
        var apics = Machine(0, 1, 2);
        apics[0].WriteMmio(TprOffset, 4, 0x20);
        apics[1].WriteMmio(TprOffset, 4, 0x10);
        apics[2].WriteMmio(TprOffset, 4, 0x10);
        SendIpi(apics[0], 0xFF, 0x100 | 0x90);
        Assert.Equal([false, true, false], Received(apics, 0x90));

        apics[2].WriteMmio(TprOffset, 4, 0x00);
        SendIpi(apics[0], 0xFF, 0x100 | 0x91);
        Assert.Equal([false, false, true], Received(apics, 0x91));

        // Only addressed APICs compete.
        SendIpi(apics[0], 0, 0x100 | 0x92);
        Assert.Equal([true, false, false], Received(apics, 0x92));
    }

    [Fact]
    public void HardwareDisabledApicsAreOffTheBus()
    {
        var apics = Machine(0, 1);
        Assert.True(apics[1].TryWriteApicBaseMsr(0xFEE0_0000));
        SendIpi(apics[0], 0xFF, 0x08_0000 | 0x93); // all including self
        Assert.True(LocalApicTests.Irr(apics[0], 0x93));
        Assert.True(apics[1].TryWriteApicBaseMsr(0xFEE0_0800));
        Assert.False(LocalApicTests.Irr(apics[1], 0x93));
    }

    [Fact]
    public void AttachingTheSameIdTwiceIsRefused()
    {
        Machine(0, 1);
        Assert.Throws<ArgumentException>(() => _bus.Attach(new LocalApic(1, false, _clock, _bus, new RecordingApicSink())));
    }

    [Fact]
    public async Task TwoProcessorsSendingEachOtherIpisConcurrentlyNeitherDeadlockNorLoseAny()
    {
        const int IpisPerSide = 20_000;
        var sinks = new[] { new RecordingApicSink(), new RecordingApicSink() };
        var apics = new LocalApic[2];
        for (int i = 0; i < 2; i++)
        {
            apics[i] = new LocalApic((uint)i, i == 0, _clock, _bus, sinks[i]);
            _bus.Attach(apics[i]);
            apics[i].WriteMmio(SvrOffset, 4, 0x1FF);
        }
        using var start = new Barrier(2);
        Task[] tasks = [.. Enumerable.Range(0, 2).Select(side => Task.Factory.StartNew(() =>
        {
            LocalApic self = apics[side];
            self.WriteMmio(IcrHighOffset, 4, (uint)(1 - side) << 24);
            start.SignalAndWait();
            for (int i = 0; i < IpisPerSide; i++)
            {
                self.WriteMmio(IcrLowOffset, 4, (uint)(0x20 + (i % 0xD0)));
                // Work on our own APIC at the same time, as a vCPU would (no EOI: that would
                // notify the owner too and blur the count below).
                _ = self.HasDeliverableInterrupt;
                self.AcknowledgeInterrupt();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
        // A deadlock shows up as a TimeoutException here instead of a hung test run.
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));

        for (int side = 0; side < 2; side++)
        {
            // Each accepted fixed IPI tells the owner exactly once...
            Assert.Equal(IpisPerSide, sinks[side].InterruptRequests);
            // ...and every vector sent is in IRR or, once acknowledged, in ISR.
            for (int vector = 0x20; vector < 0xF0; vector++)
            {
                bool arrived = LocalApicTests.Irr(apics[side], vector) || LocalApicTests.TestBit(apics[side], IsrOffset, vector);
                Assert.True(arrived, $"side {side} vector {vector:X2}");
            }
        }
    }

    [Fact]
    public async Task ConcurrentIpisOfDistinctVectorsAllArriveInIrr()
    {
        var apics = Machine(0, 1);
        Task[] tasks = [.. Enumerable.Range(0, 2).Select(side => Task.Factory.StartNew(() =>
        {
            for (int round = 0; round < 200; round++)
            {
                for (int vector = 0x20; vector < 0x100; vector++)
                {
                    var message = new ApicMessage(ApicDeliveryMode.Fixed, (byte)vector, (uint)(1 - side), false, ApicShorthand.None, false, true, (uint)side);
                    _bus.Deliver(in message);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));
        for (int vector = 0x20; vector < 0x100; vector++)
            Assert.Equal([true, true], Received(apics, vector));
    }
}
