using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Platform;
using Actors.HwBackend.Tests.Guests;
using Xunit;

namespace Actors.HwBackend.Tests.Platform;

/// <summary>
/// The timer thread against a real local APIC on the real clock. A periodic timer may lose ticks
/// when the host deschedules the thread for longer than a period (missed expiries collapse, as on
/// hardware), so the bounds leave room for that, but never allow more ticks than periods.
/// </summary>
[Collection(TimingSensitiveCollection.Name)]
public sealed class PlatformTimerTests
{
    private const int PeriodNs = 1_000_000;

    [Fact]
    public void A_1_kHz_periodic_apic_timer_fires_once_per_period_on_the_platform_clock()
    {
        var clock = new PlatformClock();
        var (apic, sink) = NewApic(clock);
        using var timer = new PlatformTimer(clock, _ => apic.NextTimerEventNanoseconds, _ => apic.UpdateTimer(), "test");
        timer.Start();
        long start = clock.NowNanoseconds;
        StartPeriodic(apic);
        timer.Reschedule();
        Thread.Sleep(500);
        // Stop guest time before counting, so that a tick delivered while this thread is
        // descheduled between the two reads cannot make the ticks outnumber the periods.
        clock.Freeze();
        long periods = (clock.NowNanoseconds - start) / PeriodNs;

        // Never more ticks than periods; a firing after a late wake-up delivers the periods it
        // missed one per EOI, so firings can be fewer than ticks.
        Assert.InRange(sink.Delivered, periods * 8 / 10, periods);
        Assert.True(timer.Firings > 0);
    }

    [Fact]
    public void A_frozen_clock_fires_nothing_and_thawing_resumes_the_ticks()
    {
        var clock = new PlatformClock();
        var (apic, sink) = NewApic(clock);
        using var timer = new PlatformTimer(clock, _ => apic.NextTimerEventNanoseconds, _ => apic.UpdateTimer(), "test");
        timer.Start();
        StartPeriodic(apic);
        timer.Reschedule();
        Thread.Sleep(50);
        clock.Freeze();
        timer.Reschedule();
        Thread.Sleep(20);
        int atFreeze = sink.Delivered;
        Thread.Sleep(200);

        Assert.Equal(atFreeze, sink.Delivered);
        clock.Thaw();
        timer.Reschedule();
        Thread.Sleep(100);
        Assert.True(sink.Delivered > atFreeze + 50, $"{sink.Delivered - atFreeze} ticks in 100 ms after thawing");
    }

    private static (LocalApic Apic, AcknowledgingSink Sink) NewApic(PlatformClock clock)
    {
        var bus = new ApicBus();
        var sink = new AcknowledgingSink();
        var apic = new LocalApic(0, true, clock, bus, sink);
        sink.Apic = apic;
        bus.Attach(apic);
        apic.WriteMmio(LocalApic.SvrOffset, 4, 0x1FF);
        return (apic, sink);
    }

    private static void StartPeriodic(LocalApic apic)
    {
        apic.WriteMmio(LocalApic.TimerDivideOffset, 4, 0xB); // divide by 1: one count per nanosecond
        apic.WriteMmio(LocalApic.LvtTimerOffset, 4, (1 << 17) | 0x40); // periodic, vector 0x40
        apic.WriteMmio(LocalApic.TimerInitialCountOffset, 4, PeriodNs);
    }

    /// <summary>Plays the processor: takes every interrupt the moment it is requested and EOIs it.</summary>
    private sealed class AcknowledgingSink : ILocalApicSink
    {
        public LocalApic? Apic;
        private int _delivered;

        public int Delivered => Volatile.Read(ref _delivered);

        public bool NmiRequested() => false;

        public void InterruptRequested()
        {
            var apic = Apic;
            if (apic == null)
                return;
            while (apic.HasDeliverableInterrupt)
            {
                apic.AcknowledgeInterrupt();
                apic.WriteMmio(LocalApic.EoiOffset, 4, 0);
                Interlocked.Increment(ref _delivered);
            }
        }

        public void TimerProgrammed()
        {
        }
    }
}
