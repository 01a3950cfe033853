using System.Text.Json;
using Actors.HwBackend.Devices;
using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Devices.Legacy;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

/// <summary>
/// PIT channel 0 edges that fall due while the guest has not taken the previous IRQ 0 are
/// delivered late, one per acknowledgement, through the 8259 (INTA) and through the IOAPIC (EOI).
/// </summary>
public sealed class PitTickBacklogTests
{
    private const ushort Counter0 = Pit8254.Counter0Port;
    private const ushort Control = Pit8254.ControlPort;
    private const int OneKilohertz = 1193;
    private const byte PitVector = 0x20;

    private readonly ManualClock _clock = new();

    /// <summary>The first nanosecond at which input clock <paramref name="ticks"/> has happened.</summary>
    private static long Ns(long ticks) => (long)(((Int128)ticks * 1_000_000_000 + Pit8254.FrequencyHz - 1) / Pit8254.FrequencyHz);

    /// <summary>Sets the clock to channel 0's <paramref name="edge"/>-th rising edge after a count loaded at time 0.</summary>
    private void AtEdge(long edge, int reload = OneKilohertz) => _clock.Now = Ns(edge * reload);

    /// <summary>The 8259 pair as Linux leaves it (vectors 0x20 / 0x28), only IRQ 0 unmasked.</summary>
    private static Pic8259Pair NewPic()
    {
        var pic = new Pic8259Pair();
        pic.Write(0x20, 1, 0x11);
        pic.Write(0x21, 1, PitVector);
        pic.Write(0x21, 1, 0x04);
        pic.Write(0x21, 1, 0x01);
        pic.Write(0x21, 1, 0xFE);
        return pic;
    }

    private static void StartPeriodic(Pit8254 pit, int reload = OneKilohertz)
    {
        pit.Write(Control, 1, 0x34); // channel 0, LSB then MSB, mode 2
        pit.Write(Counter0, 1, (uint)(reload & 0xFF));
        pit.Write(Counter0, 1, (uint)(reload >> 8));
    }

    /// <summary>Takes IRQ 0s as a guest with interrupts enabled would (INTA, handler, EOI) until none is left.</summary>
    private static int TakeAll(Pic8259Pair pic)
    {
        int taken = 0;
        while (pic.InterruptPending)
        {
            Assert.Equal(PitVector, pic.Acknowledge());
            pic.Write(0x20, 1, 0x20);
            taken++;
        }
        return taken;
    }

    [Fact]
    public void Edges_missed_while_the_last_awaits_its_acknowledge_are_delivered_one_per_acknowledge()
    {
        var pic = NewPic();
        var pit = new Pit8254(_clock, pic.GetLine(0));
        StartPeriodic(pit);

        AtEdge(1);
        pit.Update();
        Assert.True(pic.InterruptPending);
        AtEdge(6); // the vCPU does not take it for five more periods
        pit.Update();
        Assert.Equal(5, pit.Irq0PendingTicks);

        // One interrupt per INTA: the next edge is latched at the acknowledge and taken after the EOI.
        Assert.Equal(PitVector, pic.Acknowledge());
        Assert.Equal(4, pit.Irq0PendingTicks);
        Assert.False(pic.InterruptPending); // IRQ 0 is in service
        pic.Write(0x20, 1, 0x20);
        Assert.Equal(6, 1 + TakeAll(pic));
        Assert.Equal(0, pit.Irq0PendingTicks);

        // Caught up: the next edge comes on time, once.
        pit.Update();
        Assert.False(pic.InterruptPending);
        AtEdge(7);
        pit.Update();
        Assert.Equal(1, TakeAll(pic));
    }

    [Fact]
    public void Edges_are_counted_from_the_clock_not_from_the_timer_threads_wake_ups()
    {
        var pic = NewPic();
        var pit = new Pit8254(_clock, pic.GetLine(0));
        StartPeriodic(pit);
        AtEdge(1);
        pit.Update();

        // The timer thread is starved for ten periods and never calls Update; the guest's
        // acknowledgements alone bring the count up to date.
        AtEdge(11);
        Assert.Equal(11, TakeAll(pic));
        Assert.Equal(0, pit.Irq0PendingTicks);
        Assert.Equal(Ns(12 * OneKilohertz), pit.NextEventNanoseconds);
    }

    [Fact]
    public void The_backlog_holds_at_most_one_second_of_ticks()
    {
        const int HundredHertz = 11932; // 100.0 Hz: one second is 99 whole periods and a bit
        var pic = NewPic();
        var pit = new Pit8254(_clock, pic.GetLine(0));
        StartPeriodic(pit, HundredHertz);
        AtEdge(1, HundredHertz);
        pit.Update();

        AtEdge(1000, HundredHertz); // ten seconds without a single acknowledge
        pit.Update();

        Assert.Equal(99, pit.Irq0PendingTicks);
        Assert.Equal(100, TakeAll(pic));
    }

    [Fact]
    public void A_fast_timer_queues_at_most_a_thousand_ticks()
    {
        var pic = NewPic();
        var pit = new Pit8254(_clock, pic.GetLine(0));
        StartPeriodic(pit, 2); // ~597 kHz
        AtEdge(1, 2);
        pit.Update();
        AtEdge(100_000, 2);
        pit.Update();

        Assert.Equal(TickBacklog.MaxTicks, pit.Irq0PendingTicks);
    }

    [Fact]
    public void Reprogramming_the_counter_drops_the_backlog()
    {
        var pic = NewPic();
        var pit = new Pit8254(_clock, pic.GetLine(0));
        StartPeriodic(pit);
        AtEdge(1);
        pit.Update();
        AtEdge(6);
        pit.Update();
        Assert.Equal(5, pit.Irq0PendingTicks);

        pit.Write(Counter0, 1, OneKilohertz & 0xFF); // a new count, in the same mode
        pit.Write(Counter0, 1, OneKilohertz >> 8);

        Assert.Equal(0, pit.Irq0PendingTicks);
        Assert.Equal(1, TakeAll(pic)); // only the request already latched in the 8259

        AtEdge(8); // the new count started at edge 6
        pit.Update();
        AtEdge(12);
        pit.Update();
        Assert.Equal(5, pit.Irq0PendingTicks);
        pit.Write(Control, 1, 0x30); // a control word: mode 0, as guests/plat's pit_ch0_stop writes
        Assert.Equal(0, pit.Irq0PendingTicks);
        Assert.Equal(1, TakeAll(pic));
    }

    [Fact]
    public void Unmasking_irq0_drops_the_backlog()
    {
        var pic = NewPic();
        var pit = new Pit8254(_clock, pic.GetLine(0));
        StartPeriodic(pit);
        AtEdge(1);
        pit.Update();
        pic.Write(0x21, 1, 0xFF); // the guest masks IRQ 0 with the edge latched
        AtEdge(50);
        pit.Update();
        Assert.Equal(49, pit.Irq0PendingTicks);

        // What fell due while the line was closed is not owed when it opens again.
        pic.Write(0x21, 1, 0xFE);
        Assert.Equal(0, pit.Irq0PendingTicks);
        Assert.Equal(1, TakeAll(pic));
        AtEdge(51);
        pit.Update();
        Assert.Equal(1, TakeAll(pic));
    }

    [Fact]
    public void A_plain_line_that_reports_no_acknowledge_still_gets_every_edge_as_it_comes()
    {
        var pic = NewPic();
        var pit = new Pit8254(_clock, new PlainLine(pic.GetLine(0)));
        StartPeriodic(pit);
        AtEdge(1);
        pit.Update();
        AtEdge(6);
        pit.Update();

        Assert.Equal(0, pit.Irq0PendingTicks);
        Assert.Equal(1, TakeAll(pic)); // merged in the 8259's edge latch, as before
    }

    [Fact]
    public void Save_and_restore_keep_the_backlog()
    {
        var pic = NewPic();
        var pit = new Pit8254(_clock, pic.GetLine(0));
        StartPeriodic(pit);
        AtEdge(1);
        pit.Update();
        AtEdge(6);
        pit.Update();

        string pitJson = JsonSerializer.Serialize(pit.SaveState());
        var picState = pic.SaveState();
        var clock = new ManualClock(_clock.Now);
        var pic2 = new Pic8259Pair();
        var pit2 = new Pit8254(clock, pic2.GetLine(0));
        pit2.RestoreState(JsonSerializer.Deserialize<Pit8254State>(pitJson)!);
        pic2.RestoreState(picState);

        Assert.Equal(pitJson, JsonSerializer.Serialize(pit2.SaveState()));
        Assert.Equal(5, pit2.Irq0PendingTicks);
        Assert.Equal(6, TakeAll(pic2));
    }

    [Fact]
    public void Through_the_ioapic_each_eoi_of_the_pins_vector_releases_the_next_edge_and_a_masked_pin_releases_none()
    {
        const byte Vector = 0x31;
        var bus = new ApicBus();
        var apic = new LocalApic(0, true, _clock, bus, new RecordingApicSink());
        bus.Attach(apic);
        apic.WriteMmio(LocalApic.SvrOffset, 4, 0x1FF);
        var ioApic = new IoApic(1, bus);
        bus.AttachIoApic(ioApic);
        var pit = new Pit8254(_clock, ioApic.GetLine(2));
        ProgramPin(ioApic, 2, Vector, masked: false);
        StartPeriodic(pit);

        AtEdge(1);
        pit.Update();
        AtEdge(4);
        pit.Update();
        Assert.Equal(3, pit.Irq0PendingTicks);
        int taken = 0;
        while (apic.AcknowledgeInterrupt() == Vector)
        {
            apic.WriteMmio(LocalApic.EoiOffset, 4, 0);
            taken++;
        }
        Assert.Equal(4, taken);

        // Masked with ticks owed: the one already in the local APIC is taken, nothing follows it.
        AtEdge(5);
        pit.Update();
        AtEdge(9);
        pit.Update();
        Assert.Equal(4, pit.Irq0PendingTicks);
        ProgramPin(ioApic, 2, Vector, masked: true);
        Assert.Equal(Vector, apic.AcknowledgeInterrupt());
        apic.WriteMmio(LocalApic.EoiOffset, 4, 0);
        Assert.Equal(-1, apic.AcknowledgeInterrupt());
        AtEdge(20);
        pit.Update();
        Assert.Equal(-1, apic.AcknowledgeInterrupt());
    }

    private static void ProgramPin(IoApic ioApic, int pin, byte vector, bool masked)
    {
        ioApic.WriteMmio(IoApic.RegisterSelectOffset, 4, (uint)(IoApic.RedirectionTableBase + (2 * pin) + 1));
        ioApic.WriteMmio(IoApic.WindowOffset, 4, 0); // destination: APIC 0
        ioApic.WriteMmio(IoApic.RegisterSelectOffset, 4, (uint)(IoApic.RedirectionTableBase + (2 * pin)));
        ioApic.WriteMmio(IoApic.WindowOffset, 4, vector | (masked ? (uint)IoApic.EntryMasked : 0));
    }

    /// <summary>Hides the acknowledging side of a line, as a device wired to something that cannot report acknowledges sees it.</summary>
    private sealed class PlainLine(IInterruptLine inner) : IInterruptLine
    {
        public void SetLevel(bool asserted) => inner.SetLevel(asserted);
    }
}
