using Actors.HwBackend.Devices.Legacy;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class Pic8259PairTests
{
    private const ushort MasterCmd = Pic8259Pair.MasterCommandPort;
    private const ushort MasterData = Pic8259Pair.MasterDataPort;
    private const ushort SlaveCmd = Pic8259Pair.SlaveCommandPort;
    private const ushort SlaveData = Pic8259Pair.SlaveDataPort;
    private const byte NonSpecificEoi = 0x20;
    private const byte ReadIrr = 0x0A;
    private const byte ReadIsr = 0x0B;

    /// <summary>The sequence Linux's <c>init_8259A</c> writes: vectors 0x20 / 0x28, slave on IR2, 8086 mode.</summary>
    private static Pic8259Pair InitializedPic(bool autoEoi = false)
    {
        var pic = new Pic8259Pair();
        byte icw4 = (byte)(autoEoi ? 0x03 : 0x01);
        pic.Write(MasterCmd, 1, 0x11);
        pic.Write(MasterData, 1, 0x20);
        pic.Write(MasterData, 1, 0x04);
        pic.Write(MasterData, 1, icw4);
        pic.Write(SlaveCmd, 1, 0x11);
        pic.Write(SlaveData, 1, 0x28);
        pic.Write(SlaveData, 1, 0x02);
        pic.Write(SlaveData, 1, icw4);
        return pic;
    }

    private static void Pulse(Pic8259Pair pic, int irq)
    {
        pic.SetIrq(irq, true);
        pic.SetIrq(irq, false);
    }

    private static byte Isr(Pic8259Pair pic, ushort cmdPort)
    {
        pic.Write(cmdPort, 1, ReadIsr);
        return (byte)pic.Read(cmdPort, 1);
    }

    private static byte Irr(Pic8259Pair pic, ushort cmdPort)
    {
        pic.Write(cmdPort, 1, ReadIrr);
        return (byte)pic.Read(cmdPort, 1);
    }

    [Fact]
    public void InitSequenceSetsVectorBaseAndClearsMask()
    {
        var pic = InitializedPic();

        Assert.Equal(0U, pic.Read(MasterData, 1));
        Assert.Equal(0U, pic.Read(SlaveData, 1));
        Assert.False(pic.InterruptPending);

        Pulse(pic, 1);
        Assert.True(pic.InterruptPending);
        Assert.Equal(0x02, Irr(pic, MasterCmd));
        Assert.Equal(0x21, pic.Acknowledge());
        Assert.Equal(0x02, Isr(pic, MasterCmd));
        Assert.Equal(0x00, Irr(pic, MasterCmd));
        Assert.False(pic.InterruptPending);

        pic.Write(MasterCmd, 1, NonSpecificEoi);
        Assert.Equal(0x00, Isr(pic, MasterCmd));
    }

    [Fact]
    public void MaskedRequestWaitsUntilUnmasked()
    {
        var pic = InitializedPic();
        pic.Write(MasterData, 1, 0x08);
        Assert.Equal(0x08U, pic.Read(MasterData, 1));

        Pulse(pic, 3);
        Assert.False(pic.InterruptPending);
        Assert.Equal(0x08, Irr(pic, MasterCmd));

        pic.Write(MasterData, 1, 0x00);
        Assert.True(pic.InterruptPending);
        Assert.Equal(0x23, pic.Acknowledge());
    }

    [Fact]
    public void LowerIrqNumberWinsAndNestsAboveLowerPriorityService()
    {
        var pic = InitializedPic();
        Pulse(pic, 3);
        Pulse(pic, 1);

        Assert.Equal(0x21, pic.Acknowledge());
        // IRQ 3 has lower priority than the IRQ 1 in service.
        Assert.False(pic.InterruptPending);

        Pulse(pic, 0);
        Assert.True(pic.InterruptPending);
        Assert.Equal(0x20, pic.Acknowledge());
        Assert.Equal(0x03, Isr(pic, MasterCmd));

        // Non-specific EOI retires the highest-priority in-service level first.
        pic.Write(MasterCmd, 1, NonSpecificEoi);
        Assert.Equal(0x02, Isr(pic, MasterCmd));
        Assert.False(pic.InterruptPending);
        pic.Write(MasterCmd, 1, NonSpecificEoi);
        Assert.Equal(0x00, Isr(pic, MasterCmd));
        Assert.True(pic.InterruptPending);
        Assert.Equal(0x23, pic.Acknowledge());
    }

    [Fact]
    public void SpecificEoiClearsOnlyTheNamedLevel()
    {
        var pic = InitializedPic();
        Pulse(pic, 4);
        Assert.Equal(0x24, pic.Acknowledge());
        Pulse(pic, 0);
        Assert.Equal(0x20, pic.Acknowledge());

        pic.Write(MasterCmd, 1, 0x64); // specific EOI, IR4
        Assert.Equal(0x01, Isr(pic, MasterCmd));
    }

    [Fact]
    public void SetPriorityAndRotateChangeWhoWins()
    {
        var pic = InitializedPic();
        pic.Write(MasterCmd, 1, 0xC2); // IR2 lowest, so IR3 highest
        Pulse(pic, 1);
        Pulse(pic, 4);
        Assert.Equal(0x24, pic.Acknowledge());
        pic.Write(MasterCmd, 1, NonSpecificEoi);
        Assert.Equal(0x21, pic.Acknowledge());

        // Rotate on non-specific EOI makes the retired IR1 the lowest: IR2 now wins over IR1.
        pic.Write(MasterCmd, 1, 0xA0);
        Pulse(pic, 1);
        Pulse(pic, 5);
        Assert.Equal(0x25, pic.Acknowledge());
    }

    [Fact]
    public void SlaveRequestsCascadeThroughMasterIr2()
    {
        var pic = InitializedPic();
        Pulse(pic, 10);

        Assert.True(pic.InterruptPending);
        Assert.Equal(0x04, Irr(pic, MasterCmd));
        Assert.Equal(0x2A, pic.Acknowledge());
        Assert.Equal(0x04, Isr(pic, MasterCmd));
        Assert.Equal(0x04, Isr(pic, SlaveCmd));

        // Masking IR2 on the master hides every slave request.
        pic.Write(SlaveCmd, 1, NonSpecificEoi);
        pic.Write(MasterCmd, 1, NonSpecificEoi);
        pic.Write(MasterData, 1, 0x04);
        Pulse(pic, 14);
        Assert.False(pic.InterruptPending);
        pic.Write(MasterData, 1, 0x00);
        Assert.Equal(0x2E, pic.Acknowledge());
    }

    [Fact]
    public void VanishedLevelRequestGivesSpuriousIrq7()
    {
        var pic = InitializedPic();
        pic.Write(Pic8259Pair.MasterElcrPort, 1, 0x20); // IRQ 5 level-triggered
        pic.SetIrq(5, true);
        Assert.True(pic.InterruptPending);
        pic.SetIrq(5, false);

        Assert.Equal(0x27, pic.Acknowledge());
        Assert.Equal(0x00, Isr(pic, MasterCmd));
    }

    [Fact]
    public void VanishedSlaveRequestGivesSpuriousIrq15WithIr2InService()
    {
        var pic = InitializedPic();
        pic.Write(Pic8259Pair.SlaveElcrPort, 1, 0x08); // IRQ 11 level-triggered
        pic.SetIrq(11, true);
        Assert.True(pic.InterruptPending);
        pic.SetIrq(11, false);

        Assert.Equal(0x2F, pic.Acknowledge());
        Assert.Equal(0x04, Isr(pic, MasterCmd));
        Assert.Equal(0x00, Isr(pic, SlaveCmd));
    }

    [Fact]
    public void AcknowledgeWithNothingPendingIsSpurious()
    {
        var pic = InitializedPic();
        Assert.Equal(0x27, pic.Acknowledge());
        Assert.Equal(0x00, Isr(pic, MasterCmd));
    }

    [Fact]
    public void EdgeNeedsNewEdgeButLevelReassertsAfterEoi()
    {
        var pic = InitializedPic();
        pic.Write(Pic8259Pair.SlaveElcrPort, 1, 0x08); // IRQ 11 level

        // Edge (IRQ 4): held high, one interrupt only.
        pic.SetIrq(4, true);
        Assert.Equal(0x24, pic.Acknowledge());
        pic.Write(MasterCmd, 1, NonSpecificEoi);
        Assert.False(pic.InterruptPending);
        pic.SetIrq(4, false);
        pic.SetIrq(4, true);
        Assert.True(pic.InterruptPending);
        Assert.Equal(0x24, pic.Acknowledge());
        pic.Write(MasterCmd, 1, NonSpecificEoi);

        // Level (IRQ 11): still asserted after EOI, so it comes again.
        pic.SetIrq(11, true);
        Assert.Equal(0x2B, pic.Acknowledge());
        pic.Write(SlaveCmd, 1, NonSpecificEoi);
        pic.Write(MasterCmd, 1, NonSpecificEoi);
        Assert.True(pic.InterruptPending);
        Assert.Equal(0x2B, pic.Acknowledge());
        pic.SetIrq(11, false);
        pic.Write(SlaveCmd, 1, NonSpecificEoi);
        pic.Write(MasterCmd, 1, NonSpecificEoi);
        Assert.False(pic.InterruptPending);
    }

    [Fact]
    public void ElcrBitsForFixedEdgeLinesAreHardwired()
    {
        var pic = new Pic8259Pair();
        pic.Write(Pic8259Pair.MasterElcrPort, 1, 0xFF);
        pic.Write(Pic8259Pair.SlaveElcrPort, 1, 0xFF);
        Assert.Equal(0xF8U, pic.Read(Pic8259Pair.MasterElcrPort, 1));
        Assert.Equal(0xDEU, pic.Read(Pic8259Pair.SlaveElcrPort, 1));
        Assert.Equal(0xDEF8U, pic.Read(Pic8259Pair.MasterElcrPort, 2));
    }

    [Fact]
    public void AutoEoiLeavesNothingInService()
    {
        var pic = InitializedPic(autoEoi: true);
        Pulse(pic, 6);
        Assert.Equal(0x26, pic.Acknowledge());
        Assert.Equal(0x00, Isr(pic, MasterCmd));
        Pulse(pic, 7);
        Assert.True(pic.InterruptPending);
    }

    [Fact]
    public void PollCommandReturnsAndAcknowledgesHighestRequest()
    {
        var pic = InitializedPic();
        Pulse(pic, 5);
        pic.Write(MasterCmd, 1, 0x0C);
        Assert.Equal(0x85U, pic.Read(MasterCmd, 1));
        Assert.Equal(0x20, Isr(pic, MasterCmd));
        pic.Write(MasterCmd, 1, 0x0C);
        Assert.Equal(0x00U, pic.Read(MasterCmd, 1));
    }

    [Fact]
    public void LinesFromGetLineDriveTheSameInputs()
    {
        var pic = InitializedPic();
        var line = pic.GetLine(12);
        line.SetLevel(true);
        line.SetLevel(false);
        Assert.Equal(0x2C, pic.Acknowledge());
    }

    [Fact]
    public void SaveRestoreMidServiceAndMidInitRoundTrips()
    {
        var pic = InitializedPic();
        pic.Write(MasterData, 1, 0x40);
        pic.Write(Pic8259Pair.SlaveElcrPort, 1, 0x08);
        Pulse(pic, 1);
        Assert.Equal(0x21, pic.Acknowledge());
        Pulse(pic, 3); // pending behind IRQ 1
        pic.SetIrq(11, true);
        pic.Write(MasterCmd, 1, ReadIsr);
        // Slave re-initialisation interrupted after ICW2.
        pic.Write(SlaveCmd, 1, 0x11);
        pic.Write(SlaveData, 1, 0x70);

        var saved = pic.SaveState();
        var copy = new Pic8259Pair();
        copy.RestoreState(saved);
        Assert.Equal(saved, copy.SaveState());

        Assert.Equal(0x02U, copy.Read(MasterCmd, 1)); // ISR selected, IRQ 1 in service
        Assert.Equal(0x40U, copy.Read(MasterData, 1));
        copy.Write(SlaveData, 1, 0x02); // ICW3
        copy.Write(SlaveData, 1, 0x01); // ICW4
        Assert.Equal(0x00U, copy.Read(SlaveData, 1)); // ICW1 cleared the slave's mask, ICW4 ended init

        copy.Write(MasterCmd, 1, NonSpecificEoi);
        // IRQ 11 is level and still asserted through the re-init; the slave now uses base 0x70.
        Assert.Equal(0x73, copy.Acknowledge());
        // IR2 in service on the master holds off the lower-priority IRQ 3 until both EOIs.
        Assert.False(copy.InterruptPending);
        copy.SetIrq(11, false);
        copy.Write(SlaveCmd, 1, NonSpecificEoi);
        copy.Write(MasterCmd, 1, NonSpecificEoi);
        Assert.Equal(0x23, copy.Acknowledge());
    }

    [Fact]
    public void MasterReinitKeepsAPendingSlaveRequestVisible()
    {
        var pic = InitializedPic();
        Pulse(pic, 9);
        pic.Write(MasterCmd, 1, 0x11);
        pic.Write(MasterData, 1, 0x20);
        pic.Write(MasterData, 1, 0x04);
        pic.Write(MasterData, 1, 0x01);

        Assert.True(pic.InterruptPending);
        Assert.Equal(0x29, pic.Acknowledge());
    }

    [Fact]
    public void TheDeviceBehindAnInputHearsItsAcknowledgesAndUnmasks()
    {
        var pic = InitializedPic();
        var timer = new RecordingAcknowledgeListener();
        var rtc = new RecordingAcknowledgeListener();
        var cascade = new RecordingAcknowledgeListener();
        ((Actors.HwBackend.Devices.IAcknowledgingInterruptLine)pic.GetLine(0)).SetAcknowledgeListener(timer);
        pic.SetAcknowledgeListener(8, rtc);
        pic.SetAcknowledgeListener(Pic8259Pair.CascadeIrq, cascade);

        Pulse(pic, 0);
        Assert.Equal(0x20, pic.Acknowledge());
        Assert.Equal(1, timer.Acknowledgements);
        pic.Write(MasterCmd, 1, NonSpecificEoi);

        // Through the cascade: the slave's input is acknowledged, not the master's IR2.
        Pulse(pic, 8);
        Assert.Equal(0x28, pic.Acknowledge());
        Assert.Equal(1, rtc.Acknowledgements);
        Assert.Equal(0, cascade.Acknowledgements);
        pic.Write(SlaveCmd, 1, NonSpecificEoi);
        pic.Write(MasterCmd, 1, NonSpecificEoi);

        // A poll read acknowledges too.
        Pulse(pic, 0);
        pic.Write(MasterCmd, 1, 0x0C);
        Assert.Equal(0x80, (int)pic.Read(MasterCmd, 1));
        Assert.Equal(2, timer.Acknowledgements);
        pic.Write(MasterCmd, 1, NonSpecificEoi);

        // Unmasks: only inputs whose IMR bit goes from 1 to 0; ICW1 opens every input.
        pic.Write(MasterData, 1, 0xFF);
        Assert.Equal(0, timer.Unmasks);
        pic.Write(MasterData, 1, 0xFE);
        Assert.Equal(1, timer.Unmasks);
        pic.Write(MasterData, 1, 0xFE);
        Assert.Equal(1, timer.Unmasks);
        Assert.Equal(0, rtc.Unmasks);
        pic.Write(MasterCmd, 1, 0x11);
        Assert.Equal(2, timer.Unmasks);
        Assert.Equal(0, rtc.Unmasks);
    }

    [Fact]
    public void OutOfRangeIrqThrows()
    {
        var pic = new Pic8259Pair();
        Assert.Throws<ArgumentOutOfRangeException>(() => pic.SetIrq(16, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => pic.SetIrq(-1, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => pic.GetLine(16));
    }

    [Fact]
    public void ArbitraryGuestWritesNeverThrow()
    {
        var random = new Random(1234);
        ushort[] ports = [MasterCmd, MasterData, SlaveCmd, SlaveData, Pic8259Pair.MasterElcrPort, Pic8259Pair.SlaveElcrPort, 0x22, 0x4D2];
        for (int round = 0; round < 20; round++)
        {
            var pic = new Pic8259Pair();
            for (int i = 0; i < 2000; i++)
            {
                ushort port = ports[random.Next(ports.Length)];
                int size = random.Next(3) switch { 0 => 1, 1 => 2, _ => 4 };
                switch (random.Next(5))
                {
                    case 0:
                        pic.Read(port, size);
                        break;
                    case 1:
                        pic.SetIrq(random.Next(16), random.Next(2) == 0);
                        break;
                    case 2:
                        if (pic.InterruptPending || random.Next(4) == 0)
                            pic.Acknowledge();
                        break;
                    default:
                        pic.Write(port, size, (uint)random.Next());
                        break;
                }
            }
            var state = pic.SaveState();
            var copy = new Pic8259Pair();
            copy.RestoreState(state);
            Assert.Equal(state, copy.SaveState());
        }
    }

    [Fact]
    public void IcwWithoutIcw4AndOcwsMidInitAreAccepted()
    {
        var pic = new Pic8259Pair();
        pic.Write(MasterCmd, 1, 0x10); // ICW1 without IC4
        pic.Write(MasterCmd, 1, NonSpecificEoi); // an OCW2 in the middle of init
        pic.Write(MasterData, 1, 0x40); // ICW2
        pic.Write(MasterData, 1, 0x04); // ICW3, and init ends here without ICW4
        pic.Write(MasterData, 1, 0x00); // now an OCW1
        Pulse(pic, 0);
        Assert.Equal(0x40, pic.Acknowledge());

        // Single mode skips ICW3.
        pic.Write(MasterCmd, 1, 0x13);
        pic.Write(MasterData, 1, 0x50);
        pic.Write(MasterData, 1, 0x01);
        pic.Write(MasterData, 1, 0xFE);
        Assert.Equal(0xFEU, pic.Read(MasterData, 1));
    }
}
