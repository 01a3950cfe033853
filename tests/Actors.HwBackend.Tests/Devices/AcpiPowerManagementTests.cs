using Actors.HwBackend.Devices.Acpi;
using Actors.HwBackend.Platform;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class AcpiPowerManagementTests
{
    [Fact]
    public void WritingSoftOffWithSleepEnablePowersOffOnceAndOtherWritesDoNot()
    {
        int powerOffs = 0;
        var pm = new AcpiPowerManagement(new PlatformClock(frozen: true), () => powerOffs++);

        Assert.Equal(1u, pm.Read(AcpiPowerManagement.ControlBlockPort, 2)); // SCI_EN: always in ACPI mode
        pm.Write(AcpiPowerManagement.ControlBlockPort, 2, 5u << 10); // SLP_TYP 5 without SLP_EN: nothing yet
        Assert.Equal(0, powerOffs);
        pm.Write(AcpiPowerManagement.ControlBlockPort, 2, (5u << 10) | (1u << 13)); // a sleep state the DSDT does not name
        Assert.Equal(0, powerOffs);
        pm.Write(AcpiPowerManagement.ControlBlockPort, 2, 1u << 13); // SLP_TYP 0 (\_S5) with SLP_EN
        Assert.Equal(1, powerOffs);
        Assert.Equal(0u, pm.Read(AcpiPowerManagement.ControlBlockPort, 2) & (1u << 13)); // SLP_EN reads as 0
    }

    [Fact]
    public void TheTimerCountsGuestTimeAt3579545HzIn24Bits()
    {
        var clock = new PlatformClock(frozen: true);
        var pm = new AcpiPowerManagement(clock, () => { });

        clock.Set(1_000_000_000);
        Assert.Equal(3_579_545u & 0xFF_FFFF, pm.Read(AcpiPowerManagement.TimerPort, 4));
        clock.Set(10_000_000_000); // 35,795,450 ticks: past 2^24, it wraps
        Assert.Equal(35_795_450u & 0xFF_FFFF, pm.Read(AcpiPowerManagement.TimerPort, 4));
        Assert.Equal(pm.TimerValue & 0xFF, pm.Read(AcpiPowerManagement.TimerPort, 1));
    }

    [Fact]
    public void StatusBitsClearByWritingOnesAndEnableBitsSurviveASnapshot()
    {
        var pm = new AcpiPowerManagement(new PlatformClock(frozen: true), () => { });
        pm.Write(AcpiPowerManagement.EventBlockPort + 2, 2, 0x0121); // PM1_EN: PWRBTN, GBL, TMR
        Assert.Equal(0x0121u, pm.Read(AcpiPowerManagement.EventBlockPort + 2, 2));

        var copy = new AcpiPowerManagement(new PlatformClock(frozen: true), () => { });
        copy.RestoreState(pm.SaveState());
        Assert.Equal(pm.SaveState(), copy.SaveState());
        Assert.Equal(0x0121u, copy.Read(AcpiPowerManagement.EventBlockPort + 2, 2));
        copy.Write(AcpiPowerManagement.EventBlockPort, 2, 0xFFFF); // clearing status touches neither enable nor control
        Assert.Equal(0x0121u, copy.Read(AcpiPowerManagement.EventBlockPort + 2, 2));
        Assert.Equal(0u, copy.Read(AcpiPowerManagement.EventBlockPort, 2));
    }
}
