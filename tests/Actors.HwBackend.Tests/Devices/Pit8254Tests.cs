using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Devices;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Platform;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class Pit8254Tests
{
    private const ushort Counter0 = 0x40;
    private const ushort Counter2 = 0x42;
    private const ushort Control = Pit8254.ControlPort;

    private readonly FakeClock _clock = new();
    private readonly RecordingLine _irq0 = new();

    /// <summary>The first nanosecond at which input clock <paramref name="ticks"/> has happened.</summary>
    private static long Ns(long ticks) => (long)(((Int128)ticks * 1_000_000_000 + Pit8254.FrequencyHz - 1) / Pit8254.FrequencyHz);

    private void AdvanceToTick(long ticks) => _clock.Now = Ns(ticks);

    private static void LoadWord(Pit8254 pit, ushort port, int count)
    {
        pit.Write(port, 1, (uint)(count & 0xFF));
        pit.Write(port, 1, (uint)((count >> 8) & 0xFF));
    }

    private static int ReadWord(Pit8254 pit, ushort port) => (int)pit.Read(port, 1) | ((int)pit.Read(port, 1) << 8);

    [Fact]
    public void Mode2RaisesIrq0OncePerPeriod()
    {
        var pit = new Pit8254(_clock, _irq0);
        pit.Write(Control, 1, 0x34); // channel 0, LSB then MSB, mode 2
        LoadWord(pit, Counter0, 1000);

        Assert.Equal(Ns(1000), pit.NextEventNanoseconds);
        AdvanceToTick(999);
        pit.Update();
        Assert.Equal(0, _irq0.RisingEdges);
        Assert.False(pit.GetOutput(0)); // the one-clock low pulse before reload

        AdvanceToTick(1000);
        pit.Update();
        Assert.Equal(1, _irq0.RisingEdges);
        Assert.Equal(Ns(2000), pit.NextEventNanoseconds);

        AdvanceToTick(1999);
        pit.Update();
        Assert.Equal(1, _irq0.RisingEdges);
        AdvanceToTick(2000);
        pit.Update();
        Assert.Equal(2, _irq0.RisingEdges);

        // A late Update still delivers (one) interrupt for the missed edges.
        AdvanceToTick(5500);
        pit.Update();
        Assert.Equal(3, _irq0.RisingEdges);
        Assert.Equal(Ns(6000), pit.NextEventNanoseconds);
    }

    [Fact]
    public void Mode3IsASquareWaveWithThePeriodOfTheCount()
    {
        var pit = new Pit8254(_clock, _irq0);
        pit.Write(Control, 1, 0x36); // channel 0, LSB then MSB, mode 3
        LoadWord(pit, Counter0, 1000);

        AdvanceToTick(499);
        Assert.True(pit.GetOutput(0));
        AdvanceToTick(500);
        Assert.False(pit.GetOutput(0));
        pit.Update();
        Assert.Equal(0, _irq0.RisingEdges);
        Assert.False(_irq0.Level);

        Assert.Equal(Ns(1000), pit.NextEventNanoseconds);
        AdvanceToTick(1000);
        Assert.True(pit.GetOutput(0));
        pit.Update();
        Assert.Equal(1, _irq0.RisingEdges);
        Assert.True(_irq0.Level);
        Assert.Equal(Ns(2000), pit.NextEventNanoseconds);
    }

    [Fact]
    public void Mode0FiresOnceAtTerminalCount()
    {
        var pit = new Pit8254(_clock, _irq0);
        _clock.Now = 12_345_678;
        pit.Write(Control, 1, 0x30); // channel 0, LSB then MSB, mode 0
        LoadWord(pit, Counter0, 100);
        long start = pit.NextEventNanoseconds!.Value;
        Assert.False(pit.GetOutput(0));

        _clock.Now = start;
        pit.Update();
        Assert.Equal(1, _irq0.RisingEdges);
        Assert.True(pit.GetOutput(0));
        Assert.Null(pit.NextEventNanoseconds);
    }

    [Fact]
    public void ZeroReloadMeans65536()
    {
        var pit = new Pit8254(_clock, _irq0);
        pit.Write(Control, 1, 0x34);
        LoadWord(pit, Counter0, 0);

        Assert.Equal(Ns(65536), pit.NextEventNanoseconds);
        Assert.Equal(0, ReadWord(pit, Counter0));
        AdvanceToTick(1);
        Assert.Equal(65535, ReadWord(pit, Counter0));
    }

    [Fact]
    public void LatchFreezesTheCountUntilBothBytesAreRead()
    {
        var pit = new Pit8254(_clock);
        pit.Write(Control, 1, 0x34);
        LoadWord(pit, Counter0, 1000);

        AdvanceToTick(100);
        pit.Write(Control, 1, 0x00); // latch channel 0
        AdvanceToTick(400);
        pit.Write(Control, 1, 0x00); // ignored: a latch is still unread
        Assert.Equal(900, ReadWord(pit, Counter0));
        Assert.Equal(600, ReadWord(pit, Counter0)); // live again
    }

    [Fact]
    public void ReadBackLatchesStatusThenCount()
    {
        var pit = new Pit8254(_clock);
        pit.Write(Control, 1, 0x34);
        Assert.Equal(0x40, ReadBackStatus(pit)); // null count: control word written, no count loaded yet
        LoadWord(pit, Counter0, 1000);
        AdvanceToTick(250);

        pit.Write(Control, 1, 0xC2); // read-back: count and status of channel 0
        AdvanceToTick(300);
        Assert.Equal(0xB4U, pit.Read(Counter0, 1)); // output high, access 3, mode 2
        Assert.Equal(750, ReadWord(pit, Counter0));

        // Status only, then count only.
        pit.Write(Control, 1, 0xE2);
        Assert.Equal(0xB4U, pit.Read(Counter0, 1));
        pit.Write(Control, 1, 0xD2);
        Assert.Equal(700, ReadWord(pit, Counter0));
    }

    private static int ReadBackStatus(Pit8254 pit)
    {
        pit.Write(Control, 1, 0xE2);
        return (int)pit.Read(Counter0, 1) & 0x40;
    }

    [Fact]
    public void SingleByteAccessModes()
    {
        var pit = new Pit8254(_clock);
        pit.Write(Control, 1, 0x14); // LSB only, mode 2
        pit.Write(Counter0, 1, 200);
        AdvanceToTick(50);
        Assert.Equal(150U, pit.Read(Counter0, 1));
        Assert.Equal(150U, pit.Read(Counter0, 1)); // no MSB/LSB flip-flop in LSB-only mode

        pit.Write(Control, 1, 0x24); // MSB only, mode 2
        pit.Write(Counter0, 1, 0x02); // count 0x200
        AdvanceToTick(50 + 0x100);
        Assert.Equal(0x01U, pit.Read(Counter0, 1));
    }

    [Fact]
    public void Channel2GateAndOutputGoThroughPortB()
    {
        var pit = new Pit8254(_clock);
        var portB = new PortB(pit);

        // Linux's TSC calibration: gate on, speaker off, mode 0 on channel 2, poll bit 5.
        portB.Write(PortB.Port, 1, 0x01);
        Assert.True(pit.GetGate(2));
        pit.Write(Control, 1, 0xB0);
        LoadWord(pit, Counter2, 1000);
        Assert.Equal(0, (int)portB.Read(PortB.Port, 1) & 0x20);
        AdvanceToTick(999);
        Assert.Equal(0, (int)portB.Read(PortB.Port, 1) & 0x20);
        AdvanceToTick(1000);
        Assert.Equal(0x20, (int)portB.Read(PortB.Port, 1) & 0x20);

        // With the gate low the loaded count waits; raising it starts counting.
        portB.Write(PortB.Port, 1, 0x02);
        pit.Write(Control, 1, 0xB0);
        LoadWord(pit, Counter2, 100);
        AdvanceToTick(5000);
        Assert.Equal(0x02, (int)portB.Read(PortB.Port, 1) & 0x23);
        portB.Write(PortB.Port, 1, 0x03);
        AdvanceToTick(5099);
        Assert.Equal(0x03, (int)portB.Read(PortB.Port, 1) & 0x23);
        AdvanceToTick(5100);
        Assert.Equal(0x23, (int)portB.Read(PortB.Port, 1) & 0x23);
    }

    [Fact]
    public void GateLowPausesMode0AndRestartsMode2()
    {
        var pit = new Pit8254(_clock);
        pit.SetGate(2, true);
        pit.Write(Control, 1, 0xB0);
        LoadWord(pit, Counter2, 1000);
        AdvanceToTick(300);
        pit.SetGate(2, false);
        AdvanceToTick(800);
        Assert.Equal(700, ReadWord(pit, Counter2));
        pit.SetGate(2, true);
        AdvanceToTick(900);
        Assert.Equal(600, ReadWord(pit, Counter2));

        pit.Write(Control, 1, 0xB4); // mode 2
        LoadWord(pit, Counter2, 1000);
        AdvanceToTick(1200);
        pit.SetGate(2, false);
        Assert.True(pit.GetOutput(2));
        AdvanceToTick(2000);
        pit.SetGate(2, true);
        AdvanceToTick(2010);
        Assert.Equal(990, ReadWord(pit, Counter2));
    }

    [Fact]
    public void RefreshBitTogglesOnEveryRead()
    {
        var pit = new Pit8254(_clock);
        var portB = new PortB(pit);
        uint first = portB.Read(PortB.Port, 1) & 0x10;
        uint second = portB.Read(PortB.Port, 1) & 0x10;
        uint third = portB.Read(PortB.Port, 1) & 0x10;
        Assert.NotEqual(first, second);
        Assert.Equal(first, third);

        portB.Write(PortB.Port, 1, 0xFF);
        Assert.Equal(0x0FU, portB.Read(PortB.Port, 1) & 0x0F);
        Assert.True(portB.SpeakerEnabled);

        var copy = new PortB(pit);
        copy.RestoreState(portB.SaveState());
        Assert.Equal(portB.SaveState(), copy.SaveState());
    }

    [Fact]
    public void SaveRestoreMidCountContinuesFromTheRestoredPoint()
    {
        var pit = new Pit8254(_clock, _irq0);
        pit.Write(Control, 1, 0x34);
        LoadWord(pit, Counter0, 1000);
        pit.Write(Control, 1, 0xB0); // channel 2 mode 0, half-written count
        pit.Write(Counter2, 1, 0x34);
        AdvanceToTick(300);
        pit.Write(Control, 1, 0x00); // a latched, unread count
        var saved = pit.SaveState();

        var otherClock = new FakeClock { Now = Ns(50_000) };
        var otherLine = new RecordingLine();
        var copy = new Pit8254(otherClock, otherLine);
        copy.RestoreState(saved);
        Assert.Equal(saved, copy.SaveState());

        Assert.Equal(700, ReadWord(copy, Counter0)); // the latch
        otherClock.Now = Ns(50_100);
        Assert.Equal(600, ReadWord(copy, Counter0));
        Assert.Equal(Ns(50_700), copy.NextEventNanoseconds);
        otherClock.Now = Ns(50_700);
        copy.Update();
        Assert.Equal(1, otherLine.RisingEdges);

        copy.Write(Counter2, 1, 0x12); // the MSB completes the count 0x1234
        Assert.Equal(0x1234, ReadWord(copy, Counter2));
    }

    [Fact]
    public void Irq0ReachesThePicAsOneInterruptPerPeriod()
    {
        var pic = new Pic8259Pair();
        pic.Write(0x20, 1, 0x11);
        pic.Write(0x21, 1, 0x20);
        pic.Write(0x21, 1, 0x04);
        pic.Write(0x21, 1, 0x01);
        var pit = new Pit8254(_clock, pic.GetLine(0));
        pit.Write(Control, 1, 0x34);
        LoadWord(pit, Counter0, 11932); // ~100 Hz
        pit.Update();
        Assert.False(pic.InterruptPending); // programming alone raises nothing

        for (int period = 1; period <= 3; period++)
        {
            _clock.Now = pit.NextEventNanoseconds!.Value;
            pit.Update();
            Assert.True(pic.InterruptPending);
            Assert.Equal(0x20, pic.Acknowledge());
            pic.Write(0x20, 1, 0x20);
            Assert.False(pic.InterruptPending);
        }
    }

    [Fact]
    public void ArbitraryGuestInputNeverThrows()
    {
        var random = new Random(4321);
        for (int round = 0; round < 20; round++)
        {
            var clock = new FakeClock();
            var pit = new Pit8254(clock, new RecordingLine());
            var portB = new PortB(pit);
            for (int i = 0; i < 3000; i++)
            {
                ushort port = (ushort)(0x3F + random.Next(6));
                int size = random.Next(3) switch { 0 => 1, 1 => 2, _ => 4 };
                clock.Now += random.Next(100_000);
                switch (random.Next(6))
                {
                    case 0:
                        pit.Read(port, size);
                        break;
                    case 1:
                        pit.Update();
                        _ = pit.NextEventNanoseconds;
                        break;
                    case 2:
                        portB.Write(PortB.Port, 1, (uint)random.Next(256));
                        portB.Read(PortB.Port, size);
                        break;
                    default:
                        pit.Write(port, size, (uint)random.Next());
                        break;
                }
            }
            var state = pit.SaveState();
            var copy = new Pit8254(clock);
            copy.RestoreState(state);
            Assert.Equal(state, copy.SaveState());
        }
    }

    [Fact]
    public void EveryModeProducesSaneOutputWithoutThrowing()
    {
        for (int mode = 0; mode < 8; mode++)
        {
            foreach (int count in new[] { 0, 1, 2, 3, 7, 65535 })
            {
                var clock = new FakeClock();
                var pit = new Pit8254(clock, new RecordingLine());
                pit.Write(Control, 1, (uint)(0x30 | (mode << 1)));
                LoadWord(pit, Counter0, count);
                for (int t = 0; t < 20; t++)
                {
                    clock.Now = Ns(t * 3);
                    pit.Update();
                    long? next = pit.NextEventNanoseconds;
                    Assert.True(next is null || next > clock.Now);
                    ReadWord(pit, Counter0);
                }
            }
        }
    }

    private sealed class FakeClock : IPlatformClock
    {
        public long Now { get; set; }

        public long NowNanoseconds => Now;
    }

    private sealed class RecordingLine : IInterruptLine
    {
        public bool Level { get; private set; }

        public int RisingEdges { get; private set; }

        public void SetLevel(bool asserted)
        {
            if (asserted && !Level)
                RisingEdges++;
            Level = asserted;
        }
    }
}
