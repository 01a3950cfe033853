using System.Text.Json;
using Actors.HwBackend.Devices;
using Actors.HwBackend.Devices.Apic;
using Xunit;
using static Actors.HwBackend.Devices.Apic.LocalApic;

namespace Actors.HwBackend.Tests.Devices;

/// <summary>
/// Periodic local APIC timer ticks that end while the previous one awaits its EOI are delivered
/// late, one per EOI of the timer vector; one-shot expiries and masked timers behave as before.
/// </summary>
public sealed class LocalApicTickBacklogTests
{
    private const byte Vector = 0x40;
    private const uint Periodic = 1u << 17;

    private readonly ManualClock _clock = new();
    private readonly ApicBus _bus = new();

    private LocalApic NewApic(ManualClock? clock = null)
    {
        var apic = new LocalApic(0, true, clock ?? _clock, _bus, new RecordingApicSink());
        _bus.Attach(apic);
        Write(apic, SvrOffset, 0x1FF);
        return apic;
    }

    private static void Write(LocalApic apic, uint offset, uint value) => apic.WriteMmio(offset, 4, value);

    /// <summary>Divide by 1, so the initial count is the period in nanoseconds; started at the clock's present.</summary>
    private static void StartPeriodic(LocalApic apic, uint periodNs)
    {
        Write(apic, TimerDivideOffset, 0xB);
        Write(apic, LvtTimerOffset, Periodic | Vector);
        Write(apic, TimerInitialCountOffset, periodNs);
    }

    /// <summary>Takes timer interrupts as a guest with interrupts enabled would (acknowledge, handler, EOI) until none is left.</summary>
    private static int TakeAll(LocalApic apic)
    {
        int taken = 0;
        int vector;
        while ((vector = apic.AcknowledgeInterrupt()) >= 0)
        {
            Assert.Equal(Vector, vector);
            Write(apic, EoiOffset, 0);
            taken++;
        }
        return taken;
    }

    [Fact]
    public void Ticks_missed_while_the_last_awaits_its_eoi_are_delivered_one_per_eoi()
    {
        var apic = NewApic();
        StartPeriodic(apic, 1000);
        _clock.Now = 1000;
        apic.UpdateTimer();
        _clock.Now = 5500; // the vCPU does not take it for four more periods
        apic.UpdateTimer();
        Assert.Equal(4, apic.TimerPendingTicks);

        // The next owed tick enters IRR at the EOI of the last, not before.
        Assert.Equal(Vector, apic.AcknowledgeInterrupt());
        Assert.Equal(-1, apic.AcknowledgeInterrupt());
        Write(apic, EoiOffset, 0);
        Assert.Equal(3, apic.TimerPendingTicks);
        Assert.Equal(4, TakeAll(apic));
        Assert.Equal(0, apic.TimerPendingTicks);
        Assert.Equal(6000, apic.NextTimerEventNanoseconds); // still on the grid

        _clock.Now = 6000;
        apic.UpdateTimer();
        Assert.Equal(1, TakeAll(apic));
    }

    [Fact]
    public void Ticks_are_counted_from_the_clock_not_from_the_timer_threads_wake_ups()
    {
        var apic = NewApic();
        StartPeriodic(apic, 1000);
        _clock.Now = 1000;
        apic.UpdateTimer();

        // The timer thread is starved for nine periods; the EOIs alone bring the count up to date.
        _clock.Now = 10_500;
        Assert.Equal(10, TakeAll(apic));
        Assert.Equal(11_000, apic.NextTimerEventNanoseconds);
    }

    [Fact]
    public void The_backlog_holds_at_most_one_second_of_ticks()
    {
        var apic = NewApic();
        StartPeriodic(apic, 250_000_000); // 4 Hz
        _clock.Now = 250_000_000;
        apic.UpdateTimer();
        _clock.Now = 60_000_000_000; // a minute without an EOI
        apic.UpdateTimer();

        Assert.Equal(4, apic.TimerPendingTicks);
        Assert.Equal(5, TakeAll(apic));
    }

    [Fact]
    public void A_fast_timer_queues_at_most_a_thousand_ticks()
    {
        var apic = NewApic();
        StartPeriodic(apic, 100); // 10 MHz
        _clock.Now = 100;
        apic.UpdateTimer();
        _clock.Now = 10_000_000;
        apic.UpdateTimer();

        Assert.Equal(TickBacklog.MaxTicks, apic.TimerPendingTicks);
    }

    [Theory]
    [InlineData(TimerInitialCountOffset, 2000u)]
    [InlineData(TimerInitialCountOffset, 0u)]
    [InlineData(LvtTimerOffset, Periodic | Vector)]
    [InlineData(TimerDivideOffset, 0xBu)]
    public void Reprogramming_or_stopping_the_timer_drops_the_backlog(uint offset, uint value)
    {
        var apic = NewApic();
        StartPeriodic(apic, 1000);
        _clock.Now = 1000;
        apic.UpdateTimer();
        _clock.Now = 5500;
        apic.UpdateTimer();
        Assert.Equal(4, apic.TimerPendingTicks);

        Write(apic, offset, value);

        Assert.Equal(0, apic.TimerPendingTicks);
        Assert.Equal(1, TakeAll(apic)); // only the request already in IRR
    }

    [Fact]
    public void A_masked_periodic_timer_loses_its_ticks_as_on_hardware()
    {
        var apic = NewApic();
        StartPeriodic(apic, 1000);
        Write(apic, LvtTimerOffset, LvtMasked | Periodic | Vector);
        _clock.Now = 5500;
        apic.UpdateTimer();

        Assert.Equal(0, apic.TimerPendingTicks);
        Assert.Equal(0, TakeAll(apic));
    }

    [Fact]
    public void A_late_one_shot_fires_once()
    {
        var apic = NewApic();
        Write(apic, TimerDivideOffset, 0xB);
        Write(apic, LvtTimerOffset, Vector);
        Write(apic, TimerInitialCountOffset, 1000);
        _clock.Now = 50_000;
        apic.UpdateTimer();

        Assert.Equal(1, TakeAll(apic));
        Assert.Equal(0, apic.TimerPendingTicks);
        Assert.Null(apic.NextTimerEventNanoseconds);
    }

    [Fact]
    public void Save_and_restore_keep_the_backlog()
    {
        var apic = NewApic();
        StartPeriodic(apic, 1000);
        _clock.Now = 1000;
        apic.UpdateTimer();
        _clock.Now = 5500;
        apic.UpdateTimer();

        string json = JsonSerializer.Serialize(apic.SaveState());
        var clock = new ManualClock(70_000_500);
        var copy = new LocalApic(0, true, clock, new ApicBus(), new RecordingApicSink());
        copy.RestoreState(JsonSerializer.Deserialize<LocalApicState>(json)!);

        Assert.Equal(json, JsonSerializer.Serialize(copy.SaveState()));
        Assert.Equal(4, copy.TimerPendingTicks);
        Assert.Equal(5, TakeAll(copy));
        Assert.Equal(70_001_000, copy.NextTimerEventNanoseconds);
    }
}
