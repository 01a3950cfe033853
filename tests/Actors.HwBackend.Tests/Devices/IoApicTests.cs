using System.Text.Json;
using Actors.HwBackend.Devices.Apic;
using Xunit;
using static Actors.HwBackend.Devices.Apic.IoApic;

namespace Actors.HwBackend.Tests.Devices;

public sealed class IoApicTests
{
    private readonly ManualClock _clock = new();
    private readonly ApicBus _bus = new();
    private readonly LocalApic _cpu0;
    private readonly LocalApic _cpu1;
    private readonly IoApic _ioApic;

    public IoApicTests()
    {
        _cpu0 = new LocalApic(0, true, _clock, _bus, new RecordingApicSink());
        _cpu1 = new LocalApic(1, false, _clock, _bus, new RecordingApicSink());
        _bus.Attach(_cpu0);
        _bus.Attach(_cpu1);
        _cpu0.WriteMmio(LocalApic.SvrOffset, 4, 0x1FF);
        _cpu1.WriteMmio(LocalApic.SvrOffset, 4, 0x1FF);
        _ioApic = new IoApic(2, _bus);
        _bus.AttachIoApic(_ioApic);
    }

    private uint ReadRegister(byte register)
    {
        _ioApic.WriteMmio(RegisterSelectOffset, 4, register);
        return (uint)_ioApic.ReadMmio(WindowOffset, 4);
    }

    private void WriteRegister(byte register, uint value)
    {
        _ioApic.WriteMmio(RegisterSelectOffset, 4, register);
        _ioApic.WriteMmio(WindowOffset, 4, value);
    }

    private void Program(int pin, uint low, byte destination = 0)
    {
        WriteRegister((byte)(RedirectionTableBase + (2 * pin) + 1), (uint)destination << 24);
        WriteRegister((byte)(RedirectionTableBase + (2 * pin)), low);
    }

    private uint Low(int pin) => ReadRegister((byte)(RedirectionTableBase + (2 * pin)));

    private static bool Irr(LocalApic apic, int vector) => LocalApicTests.Irr(apic, vector);

    /// <summary>The local APIC takes the interrupt and signals EOI, as a guest handler would.</summary>
    private static void Service(LocalApic apic, int vector)
    {
        Assert.Equal(vector, apic.AcknowledgeInterrupt());
        apic.WriteMmio(LocalApic.EoiOffset, 4, 0);
    }

    [Fact]
    public void IdentificationRegistersAndResetState()
    {
        Assert.Equal(0x0017_0020u, ReadRegister(VersionRegister));
        Assert.Equal(2u << 24, ReadRegister(IdRegister));
        WriteRegister(IdRegister, 0xFFFF_FFFF);
        Assert.Equal(0x0F00_0000u, ReadRegister(IdRegister));
        WriteRegister(VersionRegister, 0);
        Assert.Equal(0x0017_0020u, ReadRegister(VersionRegister));
        for (int pin = 0; pin < PinCount; pin++)
        {
            Assert.Equal(0x0001_0000u, Low(pin));
            Assert.Equal(0u, ReadRegister((byte)(RedirectionTableBase + (2 * pin) + 1)));
        }
        Assert.Equal(0u, ReadRegister(0x40)); // past the table
        Assert.Equal(0x40UL, _ioApic.ReadMmio(RegisterSelectOffset, 4));
    }

    [Fact]
    public void RedirectionEntriesKeepOnlyWritableBits()
    {
        WriteRegister(RedirectionTableBase + 1, 0xFFFF_FFFF);
        WriteRegister(RedirectionTableBase, 0xFFFF_FFFF);
        Assert.Equal(0x0001_AFFFu, ReadRegister(RedirectionTableBase));
        Assert.Equal(0xFF00_0000u, ReadRegister(RedirectionTableBase + 1));
    }

    [Fact]
    public void NonThirtyTwoBitAccessesAreIgnored()
    {
        _ioApic.WriteMmio(RegisterSelectOffset, 1, VersionRegister);
        _ioApic.WriteMmio(RegisterSelectOffset, 8, VersionRegister);
        Assert.Equal(0UL, _ioApic.ReadMmio(RegisterSelectOffset, 4));
        _ioApic.WriteMmio(RegisterSelectOffset, 4, VersionRegister);
        Assert.Equal(0UL, _ioApic.ReadMmio(WindowOffset, 2));
        Assert.Equal(0UL, _ioApic.ReadMmio(WindowOffset + 1, 4));
        Assert.Equal(0x0017_0020UL, _ioApic.ReadMmio(WindowOffset, 4));
    }

    [Fact]
    public void EdgeTriggeredPinDeliversOncePerRisingEdgeWhileUnmasked()
    {
        Program(4, 0x34, destination: 1);
        _ioApic.SetIrq(4, true);
        Assert.True(Irr(_cpu1, 0x34));
        Assert.False(Irr(_cpu0, 0x34));
        Service(_cpu1, 0x34);

        _ioApic.SetIrq(4, true); // held high: no new edge
        Assert.False(Irr(_cpu1, 0x34));
        _ioApic.GetLine(4).SetLevel(false);
        _ioApic.GetLine(4).SetLevel(true);
        Assert.True(Irr(_cpu1, 0x34));
        Service(_cpu1, 0x34);
        Assert.Equal(0x34u, Low(4)); // no remote IRR for edge entries

        // A masked pin's edge is lost, and unmasking does not replay it.
        Program(4, 0x1_0034, destination: 1);
        _ioApic.SetIrq(4, false);
        _ioApic.SetIrq(4, true);
        Program(4, 0x34, destination: 1);
        Assert.False(Irr(_cpu1, 0x34));
    }

    [Fact]
    public void AnEdgePinsDeviceHearsTheEoiOfItsVectorAndItsUnmasks()
    {
        var listener = new RecordingAcknowledgeListener();
        ((Actors.HwBackend.Devices.IAcknowledgingInterruptLine)_ioApic.GetLine(2)).SetAcknowledgeListener(listener);
        Program(2, 0x1_0031); // masked
        Assert.Equal(0, listener.Unmasks);
        Program(2, 0x31);
        Assert.Equal(1, listener.Unmasks);
        Program(2, 0x31);
        Assert.Equal(1, listener.Unmasks);
        Program(5, 0x35); // no listener

        // Local APICs broadcast the EOI of an edge vector only when a pin's device waits for it.
        Assert.True(_bus.WantsEdgeEoi(0x31));
        Assert.False(_bus.WantsEdgeEoi(0x35));
        _ioApic.SetIrq(2, true);
        Assert.Equal(0, listener.Acknowledgements);
        Service(_cpu0, 0x31);
        Assert.Equal(1, listener.Acknowledgements);
        _ioApic.SetIrq(5, true);
        Service(_cpu0, 0x35);
        Assert.Equal(1, listener.Acknowledgements);

        // A new vector moves the interest with it.
        Program(2, 0x41);
        Assert.False(_bus.WantsEdgeEoi(0x31));
        Assert.True(_bus.WantsEdgeEoi(0x41));
        _ioApic.SetAcknowledgeListener(2, null);
        Assert.False(_bus.WantsEdgeEoi(0x41));
    }

    [Fact]
    public void LevelTriggeredPinUsesRemoteIrrAndIsRedeliveredAfterEoiWhileAsserted()
    {
        Program(10, 0x8000 | 0x3A);
        _ioApic.SetIrq(10, true);
        Assert.True(Irr(_cpu0, 0x3A));
        Assert.Equal(0x8000u | 0x4000u | 0x3A, Low(10));
        Assert.Equal(0x3A, _cpu0.AcknowledgeInterrupt());

        // Asserting again while remote IRR is set sends nothing.
        _ioApic.SetIrq(10, true);
        Assert.False(Irr(_cpu0, 0x3A));

        // The EOI of a level-triggered vector is broadcast; the pin is still asserted.
        _cpu0.WriteMmio(LocalApic.EoiOffset, 4, 0);
        Assert.True(Irr(_cpu0, 0x3A));
        Assert.Equal(0x8000u | 0x4000u | 0x3A, Low(10));

        Assert.Equal(0x3A, _cpu0.AcknowledgeInterrupt());
        _ioApic.SetIrq(10, false);
        _cpu0.WriteMmio(LocalApic.EoiOffset, 4, 0);
        Assert.False(Irr(_cpu0, 0x3A));
        Assert.Equal(0x8000u | 0x3A, Low(10));
    }

    [Fact]
    public void TheVersion20EoiRegisterClearsRemoteIrr()
    {
        Program(5, 0x8000 | 0x45);
        _ioApic.SetIrq(5, true);
        Assert.Equal(0x45, _cpu0.AcknowledgeInterrupt());
        _ioApic.WriteMmio(EoiOffset, 4, 0x44); // another vector
        Assert.Equal(0x8000u | 0x4000u | 0x45, Low(5));
        _ioApic.SetIrq(5, false);
        _ioApic.WriteMmio(EoiOffset, 4, 0x45);
        Assert.Equal(0x8000u | 0x45, Low(5));
    }

    [Fact]
    public void UnmaskingAnAssertedLevelPinDeliversIt()
    {
        Program(7, 0x1_8000 | 0x47);
        _ioApic.SetIrq(7, true);
        Assert.False(Irr(_cpu0, 0x47));
        Program(7, 0x8000 | 0x47);
        Assert.True(Irr(_cpu0, 0x47));
        Assert.True(LocalApicTests.TestBit(_cpu0, LocalApic.TmrOffset, 0x47));
    }

    [Fact]
    public void ActiveLowPolarityInvertsThePin()
    {
        _ioApic.SetIrq(11, true);    // electrically high: deasserted once programmed active low
        Program(11, 0xA000 | 0x4B); // level, active low
        Assert.False(Irr(_cpu0, 0x4B));
        _ioApic.SetIrq(11, false);
        Assert.True(Irr(_cpu0, 0x4B));

        Program(12, 0x2000 | 0x4C); // edge, active low: the falling edge counts
        _ioApic.SetIrq(12, true);
        Assert.False(Irr(_cpu0, 0x4C));
        _ioApic.SetIrq(12, false);
        Assert.True(Irr(_cpu0, 0x4C));
    }

    [Fact]
    public void ProgrammingAnActiveLowLevelEntryOnALowPinDeliversAtOnce()
    {
        Program(13, 0xA000 | 0x4D);
        Assert.True(Irr(_cpu0, 0x4D));
    }

    [Fact]
    public void LogicalAndLowestPriorityEntriesAreResolvedByTheBus()
    {
        _cpu0.WriteMmio(LocalApic.LdrOffset, 4, 0x0100_0000);
        _cpu1.WriteMmio(LocalApic.LdrOffset, 4, 0x0200_0000);
        Program(1, 0x800 | 0x31, destination: 0x02); // logical flat, CPU 1
        _ioApic.SetIrq(1, true);
        Assert.True(Irr(_cpu1, 0x31));
        Assert.False(Irr(_cpu0, 0x31));

        _cpu0.WriteMmio(LocalApic.TprOffset, 4, 0x20);
        Program(3, 0x900 | 0x33, destination: 0x03); // lowest priority among both
        _ioApic.SetIrq(3, true);
        Assert.True(Irr(_cpu1, 0x33));
        Assert.False(Irr(_cpu0, 0x33));
    }

    [Fact]
    public void OutOfRangePinsAreIgnored()
    {
        _ioApic.SetIrq(-1, true);
        _ioApic.SetIrq(PinCount, true);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ioApic.GetLine(PinCount));
        Assert.Same(_ioApic.GetLine(3), _ioApic.GetLine(3));
    }

    [Fact]
    public void SaveRestoreRoundTripsRemoteIrrAndPinLevels()
    {
        Program(10, 0x8000 | 0x3A, destination: 0);
        Program(4, 0x34, destination: 1);
        _ioApic.SetIrq(10, true);
        _ioApic.SetIrq(4, true);
        WriteRegister(IdRegister, 0x0500_0000);
        _ioApic.WriteMmio(RegisterSelectOffset, 4, 0x15);

        string json = JsonSerializer.Serialize(_ioApic.SaveState());
        var bus = new ApicBus();
        var cpu = new LocalApic(0, true, _clock, bus, new RecordingApicSink());
        bus.Attach(cpu);
        cpu.WriteMmio(LocalApic.SvrOffset, 4, 0x1FF);
        var copy = new IoApic(0, bus);
        bus.AttachIoApic(copy);
        copy.RestoreState(JsonSerializer.Deserialize<IoApicState>(json)!);
        Assert.Equal(json, JsonSerializer.Serialize(copy.SaveState()));

        // The restored level pin still awaits its EOI, then fires again because it is still asserted.
        Assert.Equal(0x15UL, copy.ReadMmio(RegisterSelectOffset, 4));
        copy.OnEoi(0x3A);
        Assert.True(Irr(cpu, 0x3A));
        // The restored edge pin is high: only a new rising edge delivers.
        copy.SetIrq(4, true);
        Assert.False(Irr(cpu, 0x34));
    }

    [Fact]
    public void RandomGuestAccessesNeverThrow()
    {
        var random = new Random(99);
        int[] sizes = [0, 1, 2, 4, 8, -3];
        for (int i = 0; i < 200_000; i++)
        {
            ulong value = ((ulong)(uint)random.Next() << 32) | (uint)random.Next();
            uint offset = random.Next(3) == 0 ? (uint)random.Next(0, 0x100) : (uint)(random.Next(0, 5) * 0x10);
            int size = random.Next(4) == 0 ? sizes[random.Next(sizes.Length)] : 4;
            switch (random.Next(6))
            {
                case 0:
                    _ioApic.ReadMmio(offset, size);
                    break;
                case 1:
                case 2:
                    _ioApic.WriteMmio(offset, size, value);
                    break;
                case 3:
                    _ioApic.SetIrq(random.Next(-5, 30), random.Next(2) == 0);
                    break;
                case 4:
                    _ioApic.OnEoi((byte)random.Next(256));
                    _cpu0.AcknowledgeInterrupt();
                    _cpu1.WriteMmio(LocalApic.EoiOffset, 4, 0);
                    break;
                default:
                    _ioApic.RestoreState(_ioApic.SaveState());
                    break;
            }
        }
    }
}
