using Actors.HwBackend.Devices.Legacy;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class CmosRtcTests
{
    // Tuesday 2026-11-24 15:04:05.25 UTC
    private DateTimeOffset _now = new(2026, 11, 24, 15, 4, 5, 250, TimeSpan.Zero);
    private readonly List<bool> _irq = [];
    private readonly CmosRtc _rtc;

    public CmosRtcTests() => _rtc = new CmosRtc(() => _now, _irq.Add);

    private byte Get(int index)
    {
        _rtc.Write(CmosRtc.IndexPort, 1, (uint)index);
        return (byte)_rtc.Read(CmosRtc.DataPort, 1);
    }

    private void Set(int index, byte value)
    {
        _rtc.Write(CmosRtc.IndexPort, 1, (uint)index);
        _rtc.Write(CmosRtc.DataPort, 1, value);
    }

    [Fact]
    public void ResetStatusRegisters()
    {
        Assert.Equal(0x26, Get(0x0A));
        Assert.Equal(0x02, Get(0x0B)); // 24-hour BCD
        Assert.Equal(0x00, Get(0x0C));
        Assert.Equal(0x80, Get(0x0D));
    }

    [Fact]
    public void TimeReadsInBcd()
    {
        Assert.Equal(0x05, Get(0x00));
        Assert.Equal(0x04, Get(0x02));
        Assert.Equal(0x15, Get(0x04));
        Assert.Equal(0x03, Get(0x06)); // Tuesday; Sunday = 1
        Assert.Equal(0x24, Get(0x07));
        Assert.Equal(0x11, Get(0x08));
        Assert.Equal(0x26, Get(0x09));
        Assert.Equal(0x20, Get(0x32));
    }

    [Fact]
    public void TimeReadsInBinary()
    {
        Set(0x0B, CmosRtc.B24Hour | CmosRtc.BBinary);
        Assert.Equal(5, Get(0x00));
        Assert.Equal(4, Get(0x02));
        Assert.Equal(15, Get(0x04));
        Assert.Equal(24, Get(0x07));
        Assert.Equal(11, Get(0x08));
        Assert.Equal(26, Get(0x09));
        Assert.Equal(20, Get(0x32));
    }

    [Theory]
    [InlineData(15, false, 0x83)] // 3 PM BCD
    [InlineData(15, true, 0x83)]
    [InlineData(0, false, 0x12)] // midnight is 12 AM
    [InlineData(12, false, 0x92)] // noon is 12 PM
    [InlineData(11, true, 11)]
    [InlineData(23, true, 0x8B)]
    public void TwelveHourMode(int hour, bool binary, byte expected)
    {
        _now = new DateTimeOffset(2026, 1, 1, hour, 0, 0, TimeSpan.Zero);
        Set(0x0B, binary ? CmosRtc.BBinary : (byte)0);
        Assert.Equal(expected, Get(0x04));
    }

    [Fact]
    public void ClockFollowsTheWallClock()
    {
        _now = _now.AddSeconds(70);
        Assert.Equal(0x15, Get(0x00));
        Assert.Equal(0x05, Get(0x02));
    }

    [Fact]
    public void IndexNmiBitIsNotPartOfTheAddress()
    {
        _rtc.Write(CmosRtc.IndexPort, 1, 0x80 | 0x0D);
        Assert.Equal(0x80u, _rtc.Read(CmosRtc.DataPort, 1));
        Assert.True(_rtc.NmiMasked);

        _rtc.Write(CmosRtc.IndexPort, 1, 0x80 | 0x40);
        _rtc.Write(CmosRtc.DataPort, 1, 0x5A);
        Assert.Equal(0x5A, Get(0x40));
        Assert.False(_rtc.NmiMasked);
    }

    [Fact]
    public void SetFreezesAndWrittenTimeAdvancesFromThere()
    {
        Set(0x0B, CmosRtc.BSet | CmosRtc.B24Hour);
        Set(0x00, 0x58);
        Set(0x02, 0x59);
        Set(0x04, 0x23);
        Set(0x07, 0x31);
        Set(0x08, 0x12);
        Set(0x09, 0x99);
        Set(0x32, 0x19);

        _now = _now.AddSeconds(10); // frozen while SET is on
        Assert.Equal(0x58, Get(0x00));
        Assert.Equal(0x99, Get(0x09));
        Assert.Equal(0, Get(0x0A) & CmosRtc.AUpdateInProgress);

        Set(0x0B, CmosRtc.B24Hour);
        Assert.Equal(new DateTime(1999, 12, 31, 23, 59, 58), _rtc.GuestTime);

        _now = _now.AddSeconds(3); // across the millennium
        Assert.Equal(0x01, Get(0x00));
        Assert.Equal(0x00, Get(0x02));
        Assert.Equal(0x00, Get(0x04));
        Assert.Equal(0x01, Get(0x07));
        Assert.Equal(0x01, Get(0x08));
        Assert.Equal(0x00, Get(0x09));
        Assert.Equal(0x20, Get(0x32));
        Assert.Equal(0x07, Get(0x06)); // 2000-01-01 was a Saturday
    }

    [Fact]
    public void WriteWithoutSetTakesEffectAtOnce()
    {
        Set(0x04, 0x07);
        Assert.Equal(0x07, Get(0x04));
        Assert.Equal(0x04, Get(0x02));
        _now = _now.AddHours(1);
        Assert.Equal(0x08, Get(0x04));
    }

    [Fact]
    public void TwelveHourWriteIsUnderstood()
    {
        Set(0x0B, CmosRtc.BSet);
        Set(0x04, 0x80 | 0x12); // 12 PM
        Set(0x0B, 0);
        Assert.Equal(12, _rtc.GuestTime.Hour);
    }

    [Fact]
    public void InvalidWrittenTimeLeavesTheClockRunning()
    {
        Set(0x0B, CmosRtc.BSet | CmosRtc.B24Hour);
        Set(0x00, 0x7A); // not BCD
        Set(0x07, 0x31);
        Set(0x08, 0x02); // 31 February
        Assert.Equal(0x7A, Get(0x00)); // reads back while frozen
        Set(0x0B, CmosRtc.B24Hour);
        Assert.Equal(0x05, Get(0x00));
        Assert.Equal(0x24, Get(0x07));
    }

    [Fact]
    public void SetClearsUpdateEndedEnable()
    {
        Set(0x0B, CmosRtc.BSet | CmosRtc.BUpdateEndedInterruptEnable | CmosRtc.B24Hour);
        Assert.Equal(CmosRtc.BSet | CmosRtc.B24Hour, Get(0x0B));
    }

    [Fact]
    public void UpdateInProgressNearTheEndOfEachSecond()
    {
        _now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(TimeSpan.TicksPerSecond - TimeSpan.FromMicroseconds(100).Ticks);
        Assert.Equal(0xA6, Get(0x0A));
        _now = _now.AddTicks(TimeSpan.FromMicroseconds(200).Ticks);
        Assert.Equal(0x26, Get(0x0A));
        Set(0x0A, 0xFF); // UIP is read-only
        Assert.Equal(0x7F, Get(0x0A));
    }

    [Fact]
    public void ReadingCClearsFlagsAndLowersIrq()
    {
        Set(0x0B, CmosRtc.B24Hour | CmosRtc.BUpdateEndedInterruptEnable);
        _now = _now.AddSeconds(1);
        _rtc.Poll();
        Assert.True(_rtc.InterruptAsserted);
        Assert.Equal([true], _irq);

        byte c = Get(0x0C);
        Assert.Equal(CmosRtc.CInterruptRequest | CmosRtc.CUpdateEndedFlag, c & 0xF0 & ~CmosRtc.CPeriodicFlag);
        Assert.False(_rtc.InterruptAsserted);
        Assert.Equal([true, false], _irq);
        Assert.Equal(0, Get(0x0C));
    }

    [Fact]
    public void FlagsLatchWithoutEnableAndDoNotRaiseIrq()
    {
        _now = _now.AddSeconds(1);
        _rtc.Poll();
        Assert.Empty(_irq);
        byte c = Get(0x0C);
        Assert.Equal(CmosRtc.CUpdateEndedFlag, c & (CmosRtc.CUpdateEndedFlag | CmosRtc.CInterruptRequest));
        Assert.Empty(_irq);
    }

    [Fact]
    public void EnablingAnInterruptWithItsFlagUpRaisesIrq()
    {
        _now = _now.AddSeconds(1);
        _rtc.Poll();
        Set(0x0B, CmosRtc.B24Hour | CmosRtc.BUpdateEndedInterruptEnable);
        Assert.Equal([true], _irq);
    }

    [Fact]
    public void PeriodicFlagFromRateSelect()
    {
        Set(0x0A, 0x20); // rate 0: periodic off
        Get(0x0C);
        _now = _now.AddSeconds(1);
        Assert.Equal(0, Get(0x0C) & CmosRtc.CPeriodicFlag);

        Set(0x0A, 0x2F); // rate 15: 2 Hz
        Set(0x0B, CmosRtc.B24Hour | CmosRtc.BPeriodicInterruptEnable);
        Get(0x0C);
        _now = _now.AddMilliseconds(600);
        Assert.Equal(CmosRtc.CInterruptRequest | CmosRtc.CPeriodicFlag, Get(0x0C) & 0xC0);
        var delay = _rtc.NextEventDelay();
        Assert.NotNull(delay);
        Assert.InRange(delay.Value, TimeSpan.Zero, TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void AlarmFlagWhenTimeMatches()
    {
        Set(0x01, 0x10);
        Set(0x03, 0xC0); // any minute
        Set(0x05, 0x15);
        Set(0x0B, CmosRtc.B24Hour | CmosRtc.BAlarmInterruptEnable);
        Get(0x0C);
        _now = _now.AddSeconds(3); // 15:04:08
        Assert.Equal(0, Get(0x0C) & CmosRtc.CAlarmFlag);
        _now = _now.AddSeconds(3); // past 15:04:10
        _rtc.Poll();
        Assert.Equal([true], _irq);
        Assert.Equal(CmosRtc.CInterruptRequest | CmosRtc.CAlarmFlag, Get(0x0C) & (CmosRtc.CInterruptRequest | CmosRtc.CAlarmFlag));
    }

    [Fact]
    public void NoEventDelayWithoutEnables() => Assert.Null(_rtc.NextEventDelay());

    [Fact]
    public void CmosRamAndConfigurationBytes()
    {
        Set(0x0E, 0x11);
        Assert.Equal(0x11, Get(0x0E));
        _rtc.SetConfigurationByte(0x34, 0x42);
        Assert.Equal(0x42, Get(0x34));
        Assert.Throws<ArgumentOutOfRangeException>(() => _rtc.SetConfigurationByte(0x0B, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _rtc.SetConfigurationByte(0x32, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _rtc.SetConfigurationByte(128, 0));
        Set(0x0D, 0); // read-only
        Assert.Equal(0x80, Get(0x0D));
    }

    [Fact]
    public void SaveRestoreKeepsGuestTimeAndRegisters()
    {
        Set(0x0B, CmosRtc.BSet | CmosRtc.B24Hour);
        Set(0x04, 0x01);
        Set(0x0B, CmosRtc.B24Hour); // the clock restarts from the BCD registers
        Set(0x0B, CmosRtc.B24Hour | CmosRtc.BBinary);
        Set(0x40, 0x77);
        _rtc.Write(CmosRtc.IndexPort, 1, 0x80 | 0x04);
        var state = _rtc.SaveState();

        var irq = new List<bool>();
        var other = new CmosRtc(() => _now.AddSeconds(2), irq.Add);
        other.RestoreState(state);
        Assert.Equal([false], irq);
        Assert.True(other.NmiMasked);
        Assert.Equal(1u, other.Read(CmosRtc.DataPort, 1)); // hour 1, binary
        other.Write(CmosRtc.IndexPort, 1, 0x00);
        Assert.Equal(7u, other.Read(CmosRtc.DataPort, 1)); // 5 s + 2 s later on the new host clock
        other.Write(CmosRtc.IndexPort, 1, 0x40);
        Assert.Equal(0x77u, other.Read(CmosRtc.DataPort, 1));

        Assert.Throws<ArgumentException>(() => other.RestoreState(state with { Ram = new byte[3] }));
    }

    [Fact]
    public void BadInputNeverThrows()
    {
        _now = DateTimeOffset.MaxValue;
        for (int index = 0; index < 256; index++)
        {
            foreach (int size in new[] { 1, 2, 4 })
            {
                _rtc.Write(CmosRtc.IndexPort, 1, (uint)index);
                _rtc.Read(CmosRtc.DataPort, size);
                _rtc.Write(CmosRtc.DataPort, size, 0xFFFF_FFFF);
                _rtc.Read(CmosRtc.IndexPort, size);
                _rtc.Write(0x72, size, 0);
            }
        }
        Set(0x0B, 0xFF);
        Set(0x0A, 0xFF);
        _now = DateTimeOffset.MinValue;
        _rtc.Poll();
        _rtc.NextEventDelay();
        Get(0x0C);
        Get(0x00);
    }
}
