using Actors.HwBackend.Devices;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class PitThroughIoApicTests
{
    [Fact]
    public void Pit_channel_0_reaches_the_local_apic_through_ioapic_pin_2()
    {
        var clock = new ManualClock();
        var bus = new ApicBus();
        var ioapic = new IoApic(1, bus);
        bus.AttachIoApic(ioapic);
        var sink = new RecordingApicSink();
        var apic = new LocalApic(0, true, clock, bus, sink);
        bus.Attach(apic);
        apic.WriteMmio(LocalApic.SvrOffset, 4, 0x1FF);
        var pit = new Pit8254(clock, ioapic.GetLine(2));
        ioapic.WriteMmio(0, 4, 0x10 + 4);
        ioapic.WriteMmio(0x10, 4, 0x31);
        ioapic.WriteMmio(0, 4, 0x11 + 4);
        ioapic.WriteMmio(0x10, 4, 0);
        pit.Write(0x43, 1, 0x34);
        pit.Write(0x40, 1, 0xA9);
        pit.Write(0x40, 1, 0x04);
        int delivered = 0;
        for (int i = 0; i < 20; i++)
        {
            clock.Now += 1_000_000;
            pit.Update();
            if (apic.HasDeliverableInterrupt)
            {
                Assert.Equal(0x31, apic.AcknowledgeInterrupt());
                apic.WriteMmio(LocalApic.EoiOffset, 4, 0);
                delivered++;
            }
        }
        Assert.InRange(delivered, 15, 20);
    }
}
