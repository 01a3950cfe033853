using System.Text.Json;
using Actors.HwBackend.Devices.Apic;
using Xunit;
using static Actors.HwBackend.Devices.Apic.LocalApic;

namespace Actors.HwBackend.Tests.Devices;

public sealed class LocalApicTests
{
    private readonly ManualClock _clock = new();
    private readonly ApicBus _bus = new();
    private readonly RecordingApicSink _sink = new();

    private LocalApic NewApic(uint id = 0, bool bootstrap = true, RecordingApicSink? sink = null)
    {
        var apic = new LocalApic(id, bootstrap, _clock, _bus, sink ?? _sink);
        _bus.Attach(apic);
        return apic;
    }

    private static uint Read(LocalApic apic, uint offset) => (uint)apic.ReadMmio(offset, 4);

    private static void Write(LocalApic apic, uint offset, uint value) => apic.WriteMmio(offset, 4, value);

    private static void SoftwareEnable(LocalApic apic, byte spurious = 0xFF) => Write(apic, SvrOffset, 0x100u | spurious);

    internal static bool TestBit(LocalApic apic, uint baseOffset, int vector)
    {
        // Works in both modes: MMIO in xAPIC, MSRs in x2APIC.
        uint register = baseOffset + ((uint)(vector / 32) * 16);
        ulong word = apic.MmioBase != ulong.MaxValue
            ? apic.ReadMmio(register, 4)
            : apic.TryReadMsr(X2ApicMsrBase + (register >> 4), out ulong v) ? v : 0;
        return (word & (1UL << (vector % 32))) != 0;
    }

    internal static bool Irr(LocalApic apic, int vector) => TestBit(apic, IrrOffset, vector);

    private static bool Isr(LocalApic apic, int vector) => TestBit(apic, IsrOffset, vector);

    private static bool Tmr(LocalApic apic, int vector) => TestBit(apic, TmrOffset, vector);

    private static uint LatchEsr(LocalApic apic)
    {
        Write(apic, EsrOffset, 0);
        return Read(apic, EsrOffset);
    }

    [Fact]
    public void ResetStateFollowsTheSdm()
    {
        var bsp = NewApic(0, bootstrap: true);
        var ap = NewApic(3, bootstrap: false);

        Assert.Equal(0xFEE0_0900UL, bsp.ApicBaseMsr);
        Assert.Equal(0xFEE0_0800UL, ap.ApicBaseMsr);
        Assert.Equal(DefaultBase, bsp.MmioBase);
        Assert.False(bsp.WaitingForStartup);
        Assert.True(ap.WaitingForStartup);

        Assert.Equal(3u << 24, Read(ap, IdOffset));
        Assert.Equal(0x0005_0014u, Read(ap, VersionOffset));
        Assert.Equal(0xFFu, Read(ap, SvrOffset));
        Assert.Equal(0xFFFF_FFFFu, Read(ap, DfrOffset));
        Assert.Equal(0u, Read(ap, LdrOffset));
        Assert.Equal(0u, Read(ap, TprOffset));
        Assert.Equal(0u, Read(ap, PprOffset));
        Assert.Equal(0u, Read(ap, EsrOffset));
        Assert.Equal(0u, Read(ap, TimerInitialCountOffset));
        Assert.Equal(0u, Read(ap, TimerCurrentCountOffset));
        Assert.Equal(0u, Read(ap, TimerDivideOffset));
        for (uint offset = LvtTimerOffset; offset <= LvtErrorOffset; offset += 0x10)
            Assert.Equal(0x0001_0000u, Read(ap, offset));
        for (uint i = 0; i < 8; i++)
        {
            Assert.Equal(0u, Read(ap, IrrOffset + (i * 16)));
            Assert.Equal(0u, Read(ap, IsrOffset + (i * 16)));
        }
        // Max LVT entry 5: no CMCI register.
        Assert.Equal(0u, Read(ap, LvtCmciOffset));
        Assert.False(ap.HasDeliverableInterrupt);
        Assert.Equal(-1, ap.AcknowledgeInterrupt());
    }

    [Fact]
    public void MmioReadsReturnBytesOfTheContainingRegisterAndOnlyAligned32BitWritesCount()
    {
        var apic = NewApic();
        Assert.Equal(0x14UL, apic.ReadMmio(VersionOffset, 1));
        Assert.Equal(0x00UL, apic.ReadMmio(VersionOffset + 1, 1));
        Assert.Equal(0x05UL, apic.ReadMmio(VersionOffset + 2, 1));
        Assert.Equal(0x0005UL, apic.ReadMmio(VersionOffset + 2, 2));
        Assert.Equal(0x0005_0014UL, apic.ReadMmio(VersionOffset, 8));
        Assert.Equal(0UL, apic.ReadMmio(VersionOffset + 4, 4));
        Assert.Equal(0UL, apic.ReadMmio(0xFF0, 4));

        apic.WriteMmio(TprOffset, 2, 0x20);
        apic.WriteMmio(TprOffset, 8, 0x20);
        apic.WriteMmio(TprOffset + 4, 4, 0x20);
        apic.WriteMmio(TprOffset + 1, 1, 0x20);
        Assert.Equal(0u, Read(apic, TprOffset));
        apic.WriteMmio(TprOffset, 4, 0xFFFF_FF20);
        Assert.Equal(0x20u, Read(apic, TprOffset));

        // Read-only registers ignore writes.
        Write(apic, VersionOffset, 0);
        Write(apic, IdOffset, 0x0500_0000);
        Write(apic, PprOffset, 0x50);
        Assert.Equal(0x0005_0014u, Read(apic, VersionOffset));
        Assert.Equal(0u, Read(apic, IdOffset));
        Assert.Equal(0x20u, Read(apic, PprOffset));
    }

    [Fact]
    public void AnAutoEoiVectorIsAcknowledgedWithoutGoingInService()
    {
        // Hyper-V's auto-EOI SINTs: the guest writes no EOI for 0xF3, so it must not block lower vectors.
        var apic = NewApic();
        SoftwareEnable(apic);
        apic.SetAutoEoiVectors([0, 0, 0, 1UL << (0xF3 - 192)]);
        apic.Accept(0xF3, levelTriggered: false);
        apic.Accept(0x41, levelTriggered: false);

        Assert.Equal(0xF3, apic.AcknowledgeInterrupt());
        Assert.False(Isr(apic, 0xF3));
        Assert.Equal(0x41, apic.AcknowledgeInterrupt()); // nothing in service above it
        Assert.True(Isr(apic, 0x41));

        apic.SetAutoEoiVectors([0, 0, 0, 0]);
        apic.Accept(0xF3, levelTriggered: false);
        Assert.Equal(0xF3, apic.AcknowledgeInterrupt());
        Assert.True(Isr(apic, 0xF3));
    }

    [Fact]
    public void HigherPriorityClassIsDeliveredFirstAndTprMasksLowerClasses()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        apic.Accept(0x41, levelTriggered: false);
        apic.Accept(0x62, levelTriggered: false);
        Assert.True(apic.HasDeliverableInterrupt);

        Assert.Equal(0x62, apic.AcknowledgeInterrupt());
        Assert.True(Isr(apic, 0x62));
        Assert.False(Irr(apic, 0x62));
        Assert.Equal(0x60u, Read(apic, PprOffset));
        // 0x41 is in a lower class than the one in service.
        Assert.False(apic.HasDeliverableInterrupt);

        Write(apic, EoiOffset, 0);
        Assert.Equal(0u, Read(apic, PprOffset));
        Assert.True(apic.HasDeliverableInterrupt);

        // TPR class 4 hides class 4 too: only a strictly higher class is delivered.
        Write(apic, TprOffset, 0x40);
        Assert.Equal(0x40u, Read(apic, PprOffset));
        Assert.False(apic.HasDeliverableInterrupt);
        Assert.Equal(4, apic.TaskPriorityClass);
        apic.TaskPriorityClass = 3;
        Assert.Equal(0x30u, Read(apic, TprOffset));
        Assert.True(apic.HasDeliverableInterrupt);
        Assert.Equal(0x41, apic.AcknowledgeInterrupt());
    }

    [Fact]
    public void PprIsTprWhenItsClassIsAtLeastTheInServiceClass()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        apic.Accept(0x35, false);
        Assert.Equal(0x35, apic.AcknowledgeInterrupt());
        Write(apic, TprOffset, 0x37);
        Assert.Equal(0x37u, Read(apic, PprOffset));
        Write(apic, TprOffset, 0x2F);
        Assert.Equal(0x30u, Read(apic, PprOffset));
    }

    [Fact]
    public void EoiRetiresTheHighestInServiceVectorFirst()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        apic.Accept(0x30, false);
        Assert.Equal(0x30, apic.AcknowledgeInterrupt());
        apic.Accept(0x90, false);
        Assert.Equal(0x90, apic.AcknowledgeInterrupt());
        Assert.True(Isr(apic, 0x30));
        Assert.True(Isr(apic, 0x90));

        Write(apic, EoiOffset, 0);
        Assert.False(Isr(apic, 0x90));
        Assert.True(Isr(apic, 0x30));
        Assert.Equal(0x30u, Read(apic, PprOffset));

        Write(apic, EoiOffset, 0);
        Assert.False(Isr(apic, 0x30));
        Assert.Equal(0u, Read(apic, PprOffset));
        Write(apic, EoiOffset, 0); // nothing in service: harmless
    }

    [Fact]
    public void AcknowledgeMaskedByPriorityReturnsTheSpuriousVectorWithoutAnIsrBit()
    {
        var apic = NewApic();
        SoftwareEnable(apic, spurious: 0xEF);
        apic.Accept(0x80, false);
        Write(apic, TprOffset, 0x90);
        Assert.False(apic.HasDeliverableInterrupt);

        Assert.Equal(0xEF, apic.AcknowledgeInterrupt());
        Assert.False(Isr(apic, 0x80));
        Assert.True(Irr(apic, 0x80));
        Assert.False(Isr(apic, 0xEF));
    }

    [Fact]
    public void TryAcknowledgeTakesOnlyWhatIsDeliverableAndNeverTheSpuriousVector()
    {
        var apic = NewApic();
        SoftwareEnable(apic, spurious: 0xEF);
        Assert.Equal(-1, apic.TryAcknowledgeInterrupt()); // nothing requested

        apic.Accept(0x80, false);
        Write(apic, TprOffset, 0x90);
        Assert.Equal(-1, apic.TryAcknowledgeInterrupt()); // hidden by priority: no INTA cycle, no spurious vector
        Assert.True(Irr(apic, 0x80));

        Write(apic, TprOffset, 0);
        apic.Accept(0x40, false);
        Assert.Equal(0x80, apic.TryAcknowledgeInterrupt());
        Assert.True(Isr(apic, 0x80));
        Assert.False(Irr(apic, 0x80));
        Assert.Equal(-1, apic.TryAcknowledgeInterrupt()); // 0x40 is below the in-service class
        Write(apic, EoiOffset, 0);
        Assert.Equal(0x40, apic.TryAcknowledgeInterrupt());
        Write(apic, EoiOffset, 0);
        Assert.Equal(-1, apic.TryAcknowledgeInterrupt());
        Assert.False(apic.HasDeliverableInterrupt);

        // A request after IRR emptied is seen again, and so is the 8259 once LINT0 routes it.
        apic.Accept(0x50, false);
        Assert.True(apic.HasDeliverableInterrupt);
        Assert.Equal(0x50, apic.TryAcknowledgeInterrupt());
        Write(apic, EoiOffset, 0);
        var pic = new FakeExternalInterruptSource { Vector = 0x21, InterruptPending = true };
        apic.ExternalInterrupts = pic;
        Assert.Equal(-1, apic.TryAcknowledgeInterrupt()); // LINT0 masked
        Write(apic, LvtLint0Offset, 0x700);
        Assert.Equal(0x21, apic.TryAcknowledgeInterrupt());
        Assert.Equal(1, pic.Acknowledges);
    }

    [Fact]
    public void IllegalVectorsSetEsrBitsThatAWriteLatches()
    {
        var apic = NewApic(0);
        var other = NewApic(1, bootstrap: false);
        SoftwareEnable(apic);
        SoftwareEnable(other);

        apic.Accept(5, false);
        Assert.False(Irr(apic, 5));
        // Detected errors only show after a write to ESR.
        Assert.Equal(0u, Read(apic, EsrOffset));
        Assert.Equal(EsrReceiveIllegalVector, LatchEsr(apic));
        Assert.Equal(0u, LatchEsr(apic));

        Write(apic, IcrHighOffset, 1u << 24);
        Write(apic, IcrLowOffset, 0x0000_0003); // fixed, vector 3
        Assert.False(Irr(other, 3));
        Assert.Equal(0u, LatchEsr(other));
        Assert.Equal(EsrSendIllegalVector, LatchEsr(apic));

        // Lowest priority with an illegal vector is a send error too.
        Write(apic, IcrLowOffset, 0x0000_010F);
        Assert.Equal(EsrSendIllegalVector, LatchEsr(apic));
    }

    [Fact]
    public void AnUnmaskedErrorLvtRaisesItsVectorOnAnError()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        Write(apic, LvtErrorOffset, 0xE3);
        apic.Accept(2, false);
        Assert.True(Irr(apic, 0xE3));
        Assert.Equal(0xE3, apic.AcknowledgeInterrupt());
        Assert.Equal(EsrReceiveIllegalVector, LatchEsr(apic));
    }

    [Fact]
    public void SoftwareDisableMasksLvtsAndKeepsPendingInterrupts()
    {
        var apic = NewApic(0);
        var other = NewApic(1, bootstrap: false);
        SoftwareEnable(apic);
        SoftwareEnable(other);
        Write(apic, LvtTimerOffset, 0x20);
        Write(apic, LvtLint0Offset, 0x700);
        Assert.Equal(0x20u, Read(apic, LvtTimerOffset));
        apic.Accept(0x55, false);

        Write(apic, SvrOffset, 0xFF);
        Assert.Equal(0x1_0020u, Read(apic, LvtTimerOffset));
        Assert.Equal(0x1_0700u, Read(apic, LvtLint0Offset));
        Write(apic, LvtTimerOffset, 0x21);
        Assert.Equal(0x1_0021u, Read(apic, LvtTimerOffset));
        Assert.True(Irr(apic, 0x55));
        Assert.False(apic.HasDeliverableInterrupt);

        // A software-disabled APIC still sends IPIs.
        Write(apic, IcrHighOffset, 1u << 24);
        Write(apic, IcrLowOffset, 0x66);
        Assert.True(Irr(other, 0x66));

        SoftwareEnable(apic);
        Assert.True(apic.HasDeliverableInterrupt);
        Assert.Equal(0x1_0021u, Read(apic, LvtTimerOffset)); // stays masked until written
    }

    [Fact]
    public void OneShotTimerFiresOnceAtInitialCountTimesDivisor()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        Write(apic, TimerDivideOffset, 0x0); // divide by 2
        Write(apic, LvtTimerOffset, 0x30);
        _clock.Now = 10_000;
        int programmed = _sink.TimerProgrammedCount;
        Write(apic, TimerInitialCountOffset, 1000);
        Assert.Equal(programmed + 1, _sink.TimerProgrammedCount);
        Assert.Equal(12_000L, apic.NextTimerEventNanoseconds);

        Assert.Equal(1000u, Read(apic, TimerCurrentCountOffset));
        _clock.Now = 10_001;
        Assert.Equal(1000u, Read(apic, TimerCurrentCountOffset));
        _clock.Now = 10_002;
        Assert.Equal(999u, Read(apic, TimerCurrentCountOffset));
        _clock.Now = 11_000;
        Assert.Equal(500u, Read(apic, TimerCurrentCountOffset));

        _clock.Now = 11_999;
        apic.UpdateTimer();
        Assert.False(Irr(apic, 0x30));
        _clock.Now = 12_000;
        Assert.Equal(0u, Read(apic, TimerCurrentCountOffset));
        apic.UpdateTimer();
        Assert.True(Irr(apic, 0x30));
        Assert.Null(apic.NextTimerEventNanoseconds);
        Assert.Equal(1000u, Read(apic, TimerInitialCountOffset));

        Assert.Equal(0x30, apic.AcknowledgeInterrupt());
        Write(apic, EoiOffset, 0);
        _clock.Now = 50_000;
        apic.UpdateTimer();
        Assert.False(Irr(apic, 0x30));
    }

    [Fact]
    public void AMaskedTimerCountsButRaisesNothing()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        Write(apic, TimerDivideOffset, 0xB);
        Write(apic, LvtTimerOffset, 0x1_0030);
        Write(apic, TimerInitialCountOffset, 100);
        _clock.Now = 40;
        Assert.Equal(60u, Read(apic, TimerCurrentCountOffset));
        _clock.Now = 100;
        apic.UpdateTimer();
        Assert.False(Irr(apic, 0x30));
    }

    [Theory]
    [InlineData(0x0u, 2)]
    [InlineData(0x1u, 4)]
    [InlineData(0x2u, 8)]
    [InlineData(0x3u, 16)]
    [InlineData(0x8u, 32)]
    [InlineData(0x9u, 64)]
    [InlineData(0xAu, 128)]
    [InlineData(0xBu, 1)]
    [InlineData(0xF4u, 2)] // only bits 0, 1 and 3 count
    public void DivideConfigurationSetsTheTimerRate(uint divide, long expectedDivisor)
    {
        var apic = NewApic();
        Write(apic, TimerDivideOffset, divide);
        Assert.Equal(divide & 0xB, Read(apic, TimerDivideOffset));
        Write(apic, TimerInitialCountOffset, 100);
        Assert.Equal(100 * expectedDivisor, apic.NextTimerEventNanoseconds);
        _clock.Now = 10 * expectedDivisor;
        Assert.Equal(90u, Read(apic, TimerCurrentCountOffset));
    }

    [Fact]
    public void PeriodicTimerDoesNotDriftWithLateUpdatesAndOwesMissedPeriods()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        Write(apic, TimerDivideOffset, 0xB);
        Write(apic, LvtTimerOffset, 0x2_0040); // periodic, vector 0x40
        _clock.Now = 7;
        Write(apic, TimerInitialCountOffset, 1000);

        var random = new Random(42);
        int interrupts = 0;
        for (int period = 1; period <= 1000; period++)
        {
            long deadline = 7 + (period * 1000L);
            Assert.Equal(deadline, apic.NextTimerEventNanoseconds);
            _clock.Now = deadline + random.Next(0, 999); // the timer thread is late, never by a whole period
            apic.UpdateTimer();
            if (apic.AcknowledgeInterrupt() == 0x40)
            {
                interrupts++;
                Write(apic, EoiOffset, 0);
            }
        }
        Assert.Equal(1000, interrupts);
        Assert.Equal(7 + (1001 * 1000L), apic.NextTimerEventNanoseconds);

        // 3.5 periods late: four interrupts, one per EOI (see LocalApicTickBacklogTests), and the
        // next deadline stays on the grid.
        _clock.Now = 7 + (1004 * 1000L) + 500;
        apic.UpdateTimer();
        for (int owed = 0; owed < 4; owed++)
        {
            Assert.Equal(0x40, apic.AcknowledgeInterrupt());
            Write(apic, EoiOffset, 0);
        }
        Assert.Equal(-1, apic.AcknowledgeInterrupt());
        Assert.Equal(7 + (1005 * 1000L), apic.NextTimerEventNanoseconds);
        Assert.Equal(500u, Read(apic, TimerCurrentCountOffset));
    }

    [Fact]
    public void WritingInitialCountZeroStopsTheTimer()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        Write(apic, TimerDivideOffset, 0xB);
        Write(apic, LvtTimerOffset, 0x2_0040);
        Write(apic, TimerInitialCountOffset, 1000);
        _clock.Now = 300;
        int programmed = _sink.TimerProgrammedCount;
        Write(apic, TimerInitialCountOffset, 0);
        Assert.Equal(programmed + 1, _sink.TimerProgrammedCount);
        Assert.Null(apic.NextTimerEventNanoseconds);
        Assert.Equal(0u, Read(apic, TimerCurrentCountOffset));
        _clock.Now = 5000;
        apic.UpdateTimer();
        Assert.False(Irr(apic, 0x40));
    }

    [Fact]
    public void TscDeadlineModeFiresOnceAndReadsZeroAfterwards()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        // Not in TSC-deadline mode: the MSR write is ignored.
        apic.WriteTscDeadline(123, 500);
        Assert.Equal(0UL, apic.TscDeadline);
        Assert.Null(apic.NextTimerEventNanoseconds);

        Write(apic, LvtTimerOffset, 0x4_0031);
        int programmed = _sink.TimerProgrammedCount;
        apic.WriteTscDeadline(12_345, 5_000);
        Assert.Equal(programmed + 1, _sink.TimerProgrammedCount);
        Assert.Equal(12_345UL, apic.TscDeadline);
        Assert.True(apic.TryReadMsr(TscDeadlineMsr, out ulong msr));
        Assert.Equal(12_345UL, msr);
        Assert.Equal(5_000L, apic.NextTimerEventNanoseconds);

        // Initial count is ignored and current count reads 0 in this mode.
        Write(apic, TimerInitialCountOffset, 100);
        Assert.Equal(0u, Read(apic, TimerInitialCountOffset));
        Assert.Equal(0u, Read(apic, TimerCurrentCountOffset));

        _clock.Now = 4_999;
        apic.UpdateTimer();
        Assert.False(Irr(apic, 0x31));
        _clock.Now = 5_000;
        apic.UpdateTimer();
        Assert.True(Irr(apic, 0x31));
        Assert.Equal(0UL, apic.TscDeadline);
        Assert.Null(apic.NextTimerEventNanoseconds);

        // Zero disarms.
        apic.WriteTscDeadline(99, 9_000);
        apic.WriteTscDeadline(0, 0);
        Assert.Null(apic.NextTimerEventNanoseconds);
    }

    [Fact]
    public void LeavingTscDeadlineModeDisarmsTheTimer()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        Write(apic, LvtTimerOffset, 0x4_0031);
        apic.WriteTscDeadline(1_000, 1_000);
        int programmed = _sink.TimerProgrammedCount;
        Write(apic, LvtTimerOffset, 0x0_0031);
        Assert.Equal(programmed + 1, _sink.TimerProgrammedCount);
        Assert.Equal(0UL, apic.TscDeadline);
        Assert.Null(apic.NextTimerEventNanoseconds);

        // And entering it stops a one-shot count.
        Write(apic, TimerInitialCountOffset, 1_000);
        Assert.NotNull(apic.NextTimerEventNanoseconds);
        Write(apic, LvtTimerOffset, 0x4_0031);
        Assert.Null(apic.NextTimerEventNanoseconds);
        Assert.Equal(0u, Read(apic, TimerInitialCountOffset));
    }

    [Fact]
    public void BaseMsrModeTransitionsFollowTheSdm()
    {
        var apic = NewApic(0x123);
        Assert.False(apic.TryWriteApicBaseMsr(0xFEE0_0900 | 1));          // reserved bit 0
        Assert.False(apic.TryWriteApicBaseMsr(0xFEE0_0900 | (1UL << 9)));  // reserved bit 9
        Assert.False(apic.TryWriteApicBaseMsr(0xFEE0_0500));               // x2APIC without enable
        Assert.False(apic.TryReadMsr(0x802, out _));                       // xAPIC mode: every x2APIC MSR is #GP
        Assert.False(apic.TryWriteMsr(0x808, 0));

        Assert.True(apic.TryWriteApicBaseMsr(0xFEE0_0D00));
        Assert.Equal(ulong.MaxValue, apic.MmioBase);
        Assert.False(apic.TryWriteApicBaseMsr(0xFEE0_0900));               // x2APIC -> xAPIC directly
        Assert.True(apic.TryWriteApicBaseMsr(0xFEE0_0100));                // x2APIC -> disabled
        Assert.Equal(ulong.MaxValue, apic.MmioBase);
        Assert.False(apic.TryWriteApicBaseMsr(0xFEE0_0D00));               // disabled -> x2APIC
        Assert.True(apic.TryWriteApicBaseMsr(0x1234_5000UL | 0x900));      // disabled -> xAPIC elsewhere
        Assert.Equal(0x1234_5000UL, apic.MmioBase);
        Assert.True(apic.OwnsMsr(0x800) && apic.OwnsMsr(0x8FF) && apic.OwnsMsr(0x6E0));
        Assert.False(apic.OwnsMsr(0x7FF) || apic.OwnsMsr(0x900) || apic.OwnsMsr(0x1B));
    }

    [Fact]
    public void X2ApicRegistersAndGeneralProtectionCases()
    {
        var apic = NewApic(0x123);
        Assert.True(apic.TryWriteApicBaseMsr(0xFEE0_0D00));
        Assert.True(apic.TryReadMsr(0x802, out ulong id));
        Assert.Equal(0x123UL, id);
        Assert.True(apic.TryReadMsr(0x80D, out ulong ldr));
        Assert.Equal((0x12UL << 16) | (1UL << 3), ldr);
        Assert.True(apic.TryReadMsr(0x803, out ulong version));
        Assert.Equal(0x0005_0014UL, version);

        Assert.False(apic.TryReadMsr(0x80E, out _));            // no DFR
        Assert.False(apic.TryWriteMsr(0x80E, 0));
        Assert.False(apic.TryWriteMsr(0x80D, 0));               // LDR read-only
        Assert.False(apic.TryWriteMsr(0x802, 0));               // ID read-only
        Assert.False(apic.TryReadMsr(0x80B, out _));            // EOI write-only
        Assert.False(apic.TryWriteMsr(0x80B, 1));               // non-zero EOI
        Assert.True(apic.TryWriteMsr(0x80B, 0));
        Assert.False(apic.TryReadMsr(X2ApicSelfIpiMsr, out _)); // SELF IPI write-only
        Assert.False(apic.TryReadMsr(0x831, out _));            // no ICR high
        Assert.False(apic.TryWriteMsr(0x828, 1));               // ESR accepts only 0
        Assert.True(apic.TryWriteMsr(0x828, 0));
        Assert.False(apic.TryWriteMsr(0x808, 1UL << 32));       // reserved high half
        Assert.False(apic.TryWriteMsr(0x839, 5));               // current count read-only
        Assert.False(apic.TryReadMsr(0x82F, out _));            // no CMCI
        Assert.False(apic.TryReadMsr(0x8FF, out _));            // reserved

        Assert.True(apic.TryWriteMsr(0x808, 0x50));
        Assert.Equal(5, apic.TaskPriorityClass);
        Assert.True(apic.TryWriteMsr(0x80F, 0x1FF));
        Assert.True(apic.TryReadMsr(0x80F, out ulong svr));
        Assert.Equal(0x1FFUL, svr);

        // Leaving through disabled resets everything but the ID and base.
        Assert.True(apic.TryWriteApicBaseMsr(0xFEE0_0100));
        Assert.True(apic.TryWriteApicBaseMsr(0xFEE0_0900));
        Assert.Equal(0u, Read(apic, TprOffset));
        Assert.Equal(0xFFu, Read(apic, SvrOffset));
        Assert.Equal(0x23u << 24, Read(apic, IdOffset));
    }

    [Fact]
    public void X2ApicIcrIsOneSixtyFourBitMsrAndSelfIpiTargetsSelf()
    {
        var sender = NewApic(0x10);
        var target = NewApic(0x105, bootstrap: false);
        foreach (var apic in new[] { sender, target })
        {
            Assert.True(apic.TryWriteApicBaseMsr(apic.ApicBaseMsr | BaseMsrX2Apic));
            Assert.True(apic.TryWriteMsr(0x80F, 0x1FF));
        }

        ulong icr = (0x105UL << 32) | 0x45;
        Assert.True(sender.TryWriteMsr(X2ApicIcrMsr, icr));
        Assert.True(Irr(target, 0x45));
        Assert.False(Irr(sender, 0x45));
        Assert.True(sender.TryReadMsr(X2ApicIcrMsr, out ulong readBack));
        Assert.Equal(icr, readBack);
        Assert.False(sender.TryWriteMsr(X2ApicIcrMsr, icr | (1UL << 13))); // reserved ICR bit

        // An 8-bit xAPIC-style destination does not reach APIC 0x105.
        Assert.True(sender.TryWriteMsr(X2ApicIcrMsr, (0x05UL << 32) | 0x46));
        Assert.False(Irr(target, 0x46));

        Assert.True(sender.TryWriteMsr(X2ApicSelfIpiMsr, 0x66));
        Assert.True(Irr(sender, 0x66));
        Assert.False(Irr(target, 0x66));
        Assert.Equal(0x66, sender.AcknowledgeInterrupt());
        Assert.False(Tmr(sender, 0x66));
    }

    [Fact]
    public void HardwareDisabledResetsRegistersAndPassesThe8259Through()
    {
        var apic = NewApic();
        var pic = new FakeExternalInterruptSource { Vector = 0x28 };
        apic.ExternalInterrupts = pic;
        SoftwareEnable(apic);
        Write(apic, TprOffset, 0x30);
        Write(apic, LvtTimerOffset, 0x40);
        apic.Accept(0x50, false);

        Assert.True(apic.TryWriteApicBaseMsr(0xFEE0_0100));
        Assert.Equal(ulong.MaxValue, apic.MmioBase);
        Assert.Equal(0UL, apic.ReadMmio(VersionOffset, 4));
        Assert.False(apic.HasDeliverableInterrupt);
        apic.Accept(0x51, false); // not on the bus any more
        pic.InterruptPending = true;
        Assert.True(apic.HasDeliverableInterrupt);
        Assert.Equal(0x28, apic.AcknowledgeInterrupt());

        Assert.True(apic.TryWriteApicBaseMsr(0xFEE0_0900));
        Assert.Equal(0u, Read(apic, TprOffset));
        Assert.Equal(0xFFu, Read(apic, SvrOffset));
        Assert.Equal(LvtMasked, Read(apic, LvtTimerOffset));
        Assert.False(Irr(apic, 0x50));
        Assert.False(Irr(apic, 0x51));
        // Enabled again, LINT0 is masked: the 8259 no longer reaches the processor.
        pic.InterruptPending = true;
        Assert.False(apic.HasDeliverableInterrupt);
    }

    [Fact]
    public void ExtIntOnLint0IsTheVirtualWireToThe8259()
    {
        var apic = NewApic();
        var pic = new FakeExternalInterruptSource { Vector = 0x21 };
        apic.ExternalInterrupts = pic;
        SoftwareEnable(apic);
        pic.InterruptPending = true;
        Assert.False(apic.HasDeliverableInterrupt); // LINT0 masked

        int requests = _sink.InterruptRequests;
        Write(apic, LvtLint0Offset, 0x700);
        Assert.True(_sink.InterruptRequests > requests);
        Assert.True(apic.HasDeliverableInterrupt);
        Assert.Equal(0x21, apic.AcknowledgeInterrupt());
        Assert.Equal(1, pic.Acknowledges);
        Assert.False(Isr(apic, 0x21)); // the 8259 holds it in service, not the APIC
        Assert.False(apic.HasDeliverableInterrupt);

        requests = _sink.InterruptRequests;
        pic.InterruptPending = true;
        apic.SetLint0(true);
        Assert.Equal(requests + 1, _sink.InterruptRequests);

        // An APIC vector above PPR wins over the 8259.
        apic.Accept(0x80, false);
        Assert.Equal(0x80, apic.AcknowledgeInterrupt());
        Assert.Equal(0x21, apic.AcknowledgeInterrupt());
    }

    [Fact]
    public void NmisGoToTheProcessorAndAreCountedWhenItsLatchIsFull()
    {
        var apic = NewApic(0);
        var other = NewApic(1, bootstrap: false);
        SoftwareEnable(apic);
        Write(apic, LvtLint1Offset, 0x400);
        apic.SetLint1(true);
        apic.SetLint1(true); // no new edge
        apic.SetLint1(false);
        Assert.Equal(1, _sink.NmiRequests);
        Assert.Equal(0, apic.NmisDropped);

        Write(apic, IcrHighOffset, 1u << 24);
        Write(apic, IcrLowOffset, 0x400);
        Assert.Equal(2, _sink.NmiRequests);
        Assert.False(apic.HasDeliverableInterrupt);
        Assert.False(other.HasDeliverableInterrupt);

        _sink.LatchesNmis = false;
        Write(apic, IcrLowOffset, 0x400);
        Assert.Equal(3, _sink.NmiRequests);
        Assert.Equal(1, other.NmisDropped);
        Assert.Equal(0, apic.NmisDropped);
    }

    [Fact]
    public void LevelTriggeredFixedLint0IsRedeliveredAfterEoiWhileAsserted()
    {
        var apic = NewApic();
        SoftwareEnable(apic);
        Write(apic, LvtLint0Offset, 0x8000 | 0x52);
        apic.SetLint0(true);
        Assert.Equal(0x52, apic.AcknowledgeInterrupt());
        Assert.True(Tmr(apic, 0x52));
        Assert.Equal(0x8000u | LvtRemoteIrr | 0x52, Read(apic, LvtLint0Offset));
        Write(apic, EoiOffset, 0);
        Assert.True(Irr(apic, 0x52));
        Assert.Equal(0x52, apic.AcknowledgeInterrupt());
        apic.SetLint0(false);
        Write(apic, EoiOffset, 0);
        Assert.False(Irr(apic, 0x52));
        Assert.Equal(0x8052u, Read(apic, LvtLint0Offset));
    }

    [Fact]
    public void InitResetsRegistersAndStartupIpiStartsAWaitingProcessor()
    {
        var bsp = NewApic(0);
        var apSink = new RecordingApicSink();
        var ap = NewApic(1, bootstrap: false, apSink);
        SoftwareEnable(bsp);

        // The AP waits from power-up; a running BSP ignores start-up IPIs.
        Write(bsp, IcrHighOffset, 0);
        Write(bsp, IcrLowOffset, 0x0000_4610);
        Assert.False(bsp.TakeStartup(out _));

        // Start the AP, then INIT it and start it again, as the MP start-up algorithm does.
        Write(bsp, IcrHighOffset, 1u << 24);
        Write(bsp, IcrLowOffset, 0x0000_4608);
        Assert.True(ap.TakeStartup(out byte firstVector));
        Assert.Equal(8, firstVector);
        SoftwareEnable(ap);
        Write(ap, TprOffset, 0x20);
        Write(ap, LvtTimerOffset, 0x40);
        ap.Accept(0x60, false);
        Assert.False(ap.TakeInit());

        Write(bsp, IcrHighOffset, 1u << 24);
        int before = apSink.InterruptRequests;
        Write(bsp, IcrLowOffset, 0x0000_8500); // INIT level de-assert: no-op
        Assert.Equal(before, apSink.InterruptRequests);
        Assert.False(ap.TakeInit());

        Write(bsp, IcrLowOffset, 0x0000_4500); // INIT assert
        Assert.Equal(before + 1, apSink.InterruptRequests);
        Assert.True(ap.TakeInit());
        Assert.False(ap.TakeInit());
        Assert.True(ap.WaitingForStartup);
        Assert.Equal(0u, Read(ap, TprOffset));
        Assert.Equal(0xFFu, Read(ap, SvrOffset));
        Assert.Equal(LvtMasked, Read(ap, LvtTimerOffset));
        Assert.False(Irr(ap, 0x60));
        Assert.Equal(1u << 24, Read(ap, IdOffset));
        Assert.Equal(0xFEE0_0800UL, ap.ApicBaseMsr);

        Write(bsp, IcrLowOffset, 0x0000_469A); // SIPI, vector 0x9A
        Write(bsp, IcrLowOffset, 0x0000_469B); // a second one before it is taken is ignored
        Assert.True(ap.TakeStartup(out byte vector));
        Assert.Equal(0x9A, vector);
        Assert.False(ap.WaitingForStartup);
        Write(bsp, IcrLowOffset, 0x0000_469C); // running now: ignored
        Assert.False(ap.TakeStartup(out _));
    }

    [Fact]
    public void StartupIpiRightAfterInitIsKeptUntilTheVcpuTakesBoth()
    {
        var bsp = NewApic(0);
        var ap = NewApic(1, bootstrap: false);
        Assert.False(ap.TakeStartup(out _));
        // Bring the AP to running first.
        Write(bsp, IcrHighOffset, 1u << 24);
        Write(bsp, IcrLowOffset, 0x0000_4608);
        Assert.True(ap.TakeStartup(out byte first));
        Assert.Equal(8, first);

        Write(bsp, IcrLowOffset, 0x0000_4500);
        Write(bsp, IcrLowOffset, 0x0000_4610); // arrives before the vCPU thread takes the INIT
        Assert.True(ap.TakeInit());
        Assert.True(ap.WaitingForStartup);
        Assert.True(ap.TakeStartup(out byte second));
        Assert.Equal(0x10, second);
    }

    [Fact]
    public void SaveRestoreRoundTripsMidTimerOnAClockWithAnotherOrigin()
    {
        var apic = NewApic(2, bootstrap: false);
        SoftwareEnable(apic, 0xEE);
        Write(apic, TprOffset, 0x10);
        Write(apic, LdrOffset, 0x0400_0000);
        Write(apic, DfrOffset, 0x0FFF_FFFF);
        Write(apic, TimerDivideOffset, 0x1); // divide by 4
        Write(apic, LvtTimerOffset, 0x2_0045);
        Write(apic, LvtLint1Offset, 0x400);
        Write(apic, IcrHighOffset, 0x0700_0000);
        apic.Accept(0x70, levelTriggered: true);
        apic.Accept(0x90, false);
        Assert.Equal(0x90, apic.AcknowledgeInterrupt());
        apic.Accept(3, false); // an unlatched error
        _sink.LatchesNmis = false; // the processor holds an NMI already: this one is counted as lost
        apic.SetLint1(true);
        _clock.Now = 1_000;
        Write(apic, TimerInitialCountOffset, 500); // period 2000 ns
        _clock.Now = 2_500;
        uint countBefore = Read(apic, TimerCurrentCountOffset);

        LocalApicState saved = apic.SaveState();
        string json = JsonSerializer.Serialize(saved);

        var otherClock = new ManualClock(9_000_000);
        var copy = new LocalApic(2, false, otherClock, new ApicBus(), new RecordingApicSink());
        copy.RestoreState(JsonSerializer.Deserialize<LocalApicState>(json)!);
        Assert.Equal(json, JsonSerializer.Serialize(copy.SaveState()));

        Assert.Equal(countBefore, (uint)copy.ReadMmio(TimerCurrentCountOffset, 4));
        Assert.Equal(9_000_000 + 500L, copy.NextTimerEventNanoseconds);
        Assert.Equal(0x90u, (uint)copy.ReadMmio(PprOffset, 4));
        Assert.True(Tmr(copy, 0x70));
        Assert.Equal(1, copy.NmisDropped);
        Assert.True(copy.WaitingForStartup);
        copy.WriteMmio(EsrOffset, 4, 0);
        Assert.Equal(EsrReceiveIllegalVector, (uint)copy.ReadMmio(EsrOffset, 4));

        otherClock.Now += 500;
        copy.UpdateTimer();
        Assert.True(Irr(copy, 0x45));
        Assert.Equal(9_000_000 + 2_500L, copy.NextTimerEventNanoseconds);
    }

    [Fact]
    public void RestoreRefusesAnotherApicsState()
    {
        var apic = NewApic(2);
        var other = new LocalApic(3, false, _clock, new ApicBus(), _sink);
        Assert.Throws<ArgumentException>(() => other.RestoreState(apic.SaveState()));
    }

    [Fact]
    public void RandomGuestAccessesNeverThrow()
    {
        var random = new Random(1234);
        var apic = NewApic(0);
        var peer = NewApic(1, bootstrap: false);
        apic.ExternalInterrupts = new FakeExternalInterruptSource { InterruptPending = true };
        int[] sizes = [0, 1, 2, 3, 4, 8, 16, -1];
        for (int i = 0; i < 200_000; i++)
        {
            _clock.Now += random.Next(0, 5000);
            uint offset = (uint)random.Next(0, 0x1100);
            if (random.Next(4) == 0)
                offset &= 0xFF0;
            ulong value = ((ulong)(uint)random.Next() << 32) | (uint)random.Next();
            if (random.Next(2) == 0)
                value &= 0xFFFF_FFFF;
            int size = sizes[random.Next(sizes.Length)];
            switch (random.Next(12))
            {
                case 0:
                    apic.ReadMmio(offset, size);
                    break;
                case 1:
                case 2:
                case 3:
                    apic.WriteMmio(offset, random.Next(3) == 0 ? size : 4, value);
                    break;
                case 4:
                    apic.TryReadMsr((uint)(0x7F0 + random.Next(0x120)), out _);
                    break;
                case 5:
                    apic.TryWriteMsr((uint)(0x7F0 + random.Next(0x120)), value);
                    break;
                case 6:
                    apic.TryWriteApicBaseMsr(random.Next(3) == 0 ? value : (0xFEE0_0000UL | ((ulong)random.Next(16) << 8)));
                    break;
                case 7:
                    apic.WriteTscDeadline(value, _clock.Now + random.Next(-1000, 100_000));
                    break;
                case 8:
                    apic.AcknowledgeInterrupt();
                    _ = apic.HasDeliverableInterrupt;
                    break;
                case 9:
                    apic.UpdateTimer();
                    apic.TakeInit();
                    apic.TakeStartup(out _);
                    break;
                case 10:
                    apic.SetLint0(random.Next(2) == 0);
                    apic.SetLint1(random.Next(2) == 0);
                    apic.Accept((byte)random.Next(256), random.Next(2) == 0);
                    break;
                default:
                    apic.TaskPriorityClass = random.Next(-20, 20);
                    peer.WriteMmio(IcrLowOffset, 4, value);
                    apic.RestoreState(apic.SaveState());
                    break;
            }
        }
    }
}
