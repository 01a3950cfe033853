using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Devices.Apic;
using Actors.HwBackend.Devices.Legacy;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Snapshots;
using Actors.HwBackend.Tests.Devices;
using Actors.HwBackend.Tests.Emulation;
using Xunit;

namespace Actors.HwBackend.Tests.Snapshots;

/// <summary>
/// Each state record as its own section: it reads back what it wrote, and a record built in code
/// with a null or missized array is refused as an argument, by its device and by the writer alike.
/// </summary>
public sealed class StateRecordTests
{
    [Fact]
    public void EveryDeviceStateReadsBackWhatItWrote()
    {
        var clock = new ManualClock(1_000_000);
        var bus = new ApicBus();
        var apic = new LocalApic(0, true, clock, bus, new RecordingApicSink());
        apic.WriteMmio(LocalApic.SvrOffset, 4, 0x1FF);
        var pit = new Pit8254(clock);
        pit.Write(Pit8254.ControlPort, 1, 0x34);
        pit.Write(Pit8254.Counter0Port, 1, 0x10);
        pit.Write(Pit8254.Counter0Port, 1, 0x20);
        var uart = new Uart16550();
        uart.EnqueueReceive("abc"u8);

        AssertRoundTrip(new Pic8259Pair().SaveState());
        AssertRoundTrip(pit.SaveState());
        AssertRoundTrip(new PortB(pit).SaveState());
        AssertRoundTrip(new CmosRtc(() => DateTimeOffset.UnixEpoch, _ => { }).SaveState(), (a, b) => a.Ram.SequenceEqual(b.Ram) && a with { Ram = b.Ram } == b);
        AssertRoundTrip(uart.SaveState(), (a, b) => a.ReceiveQueue.SequenceEqual(b.ReceiveQueue) && a with { ReceiveQueue = b.ReceiveQueue } == b);
        AssertRoundTrip(new FwCfgDevice(1 << 20, 1).SaveState());
        AssertRoundTrip(new ResetControl(_ => { }).SaveState());
        AssertRoundTrip(new IoApic(1, bus).SaveState(), (a, b) => a.Redirection.SequenceEqual(b.Redirection) && a with { Redirection = b.Redirection } == b);
        AssertRoundTrip(apic.SaveState(), (a, b) => a.Isr.SequenceEqual(b.Isr) && a.Tmr.SequenceEqual(b.Tmr) && a.Irr.SequenceEqual(b.Irr) && a.Lvt.SequenceEqual(b.Lvt)
            && a with { Isr = b.Isr, Tmr = b.Tmr, Irr = b.Irr, Lvt = b.Lvt } == b);
    }

    [Fact]
    public void RecordsWithNullArraysAreRefusedAsArgumentsByTheirDevicesAndTheWriter()
    {
        var clock = new ManualClock();
        var bus = new ApicBus();
        var apic = new LocalApic(0, true, clock, bus, new RecordingApicSink());
        var uart = new Uart16550();
        var rtc = new CmosRtc(() => DateTimeOffset.UnixEpoch, _ => { });
        var ioApic = new IoApic(1, bus);
        var pit = new Pit8254(clock);
        var pic = new Pic8259Pair();

        AssertRefused(uart.RestoreState, uart.SaveState() with { ReceiveQueue = null! });
        AssertRefused(rtc.RestoreState, rtc.SaveState() with { Ram = null! });
        AssertRefused(ioApic.RestoreState, ioApic.SaveState() with { Redirection = null! });
        AssertRefused(apic.RestoreState, apic.SaveState() with { Isr = null! });
        AssertRefused(apic.RestoreState, apic.SaveState() with { Lvt = null! });
        AssertRefused(pit.RestoreState, pit.SaveState() with { Channel1 = null! });
        AssertRefused(pic.RestoreState, pic.SaveState() with { Slave = null! });

        using var machine = TestMachines.Create(1 << 20);
        IVirtualProcessor processor = machine.Processors[0];
        AssertRefused(processor.SetState, new VpState { Gprs = null! });
        AssertRefused(processor.SetState, new VpState { DebugRegisters = null! });
        AssertRefused(processor.SetState, new VpState { FxsaveArea = new byte[3] });
        // A vector out of range is a value, not a shape: it encodes, and the restore refuses it.
        Assert.Throws<ArgumentException>(() => processor.SetState(new VpState { PendingInterrupt = 256 }));
    }

    private static void AssertRefused<TState>(Action<TState> restore, TState state)
        where TState : ISnapshotSection<TState>
    {
        Assert.ThrowsAny<ArgumentException>(() => restore(state));
        using var writer = new SnapshotWriter();
        var refusal = Assert.ThrowsAny<ArgumentException>(() => writer.Add("state", state));
        Assert.DoesNotContain('\n', refusal.Message);
    }

    private static void AssertRoundTrip<TState>(TState state, Func<TState, TState, bool>? same = null)
        where TState : ISnapshotSection<TState>
    {
        using var writer = new SnapshotWriter();
        writer.Add("state", state);
        var read = SnapshotReader.Open(writer.ToArray()).Read<TState>("state");
        Assert.True(same is null ? Equals(state, read) : same(state, read), $"{typeof(TState).Name} did not read back as written");
    }
}
