using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// The MC146818 real-time clock and CMOS RAM of a PC, at 0x70 (index; bit 7 masks NMI) and 0x71
/// (data). Registers follow the datasheet and QEMU's hw/rtc/mc146818rtc.c. The clock is the host
/// wall clock (read as UTC, QEMU's default base) plus an offset the guest changes by writing the
/// time, so it never drifts from the host and needs no timer to advance. Interrupt flags are
/// worked out from elapsed time whenever register C is read or <see cref="Poll"/> runs; a machine
/// that wants interrupts delivered on time calls <see cref="Poll"/> when
/// <see cref="NextEventDelay"/> says the next one is due.
/// </summary>
public sealed class CmosRtc : IPortDevice
{
    public const ushort IndexPort = 0x70;
    public const ushort DataPort = 0x71;
    public const int PortCount = 2;
    public const int RamSize = 128;

    public const int SecondsRegister = 0x00;
    public const int SecondsAlarmRegister = 0x01;
    public const int MinutesRegister = 0x02;
    public const int MinutesAlarmRegister = 0x03;
    public const int HoursRegister = 0x04;
    public const int HoursAlarmRegister = 0x05;
    public const int DayOfWeekRegister = 0x06;
    public const int DayOfMonthRegister = 0x07;
    public const int MonthRegister = 0x08;
    public const int YearRegister = 0x09;
    public const int StatusA = 0x0A;
    public const int StatusB = 0x0B;
    public const int StatusC = 0x0C;
    public const int StatusD = 0x0D;
    public const int CenturyRegister = 0x32;

    public const byte AUpdateInProgress = 0x80;
    public const byte BSet = 0x80;
    public const byte BPeriodicInterruptEnable = 0x40;
    public const byte BAlarmInterruptEnable = 0x20;
    public const byte BUpdateEndedInterruptEnable = 0x10;
    public const byte BBinary = 0x04;
    public const byte B24Hour = 0x02;
    public const byte CInterruptRequest = 0x80;
    public const byte CPeriodicFlag = 0x40;
    public const byte CAlarmFlag = 0x20;
    public const byte CUpdateEndedFlag = 0x10;
    public const byte DValidRamAndTime = 0x80;

    private const byte HourPm = 0x80;
    private const byte AlarmDontCare = 0xC0; // values 0xC0-0xFF in an alarm register match anything
    private const byte AWritableBits = 0x7F;
    private const byte ARateMask = 0x0F;

    // Reset values: 32.768 kHz time base with 1024 Hz periodic rate, and 24-hour BCD as a PC BIOS
    // leaves it (QEMU's defaults).
    private const byte AResetValue = 0x26;
    private const byte BResetValue = B24Hour;

    // The datasheet's update cycle: UIP rises 244 µs before the registers change at the second.
    private static readonly long UpdateInProgressTicks = TimeSpan.FromMicroseconds(244).Ticks;

    // Alarm catch-up scans whole seconds; after a day every reachable alarm pattern has matched.
    private const long MaxAlarmScanSeconds = 24 * 60 * 60 + 1;

    private readonly Lock _lock = new();
    private readonly Func<DateTimeOffset> _wallClock;
    private readonly Action<bool> _irq8;
    private readonly byte[] _ram = new byte[RamSize];
    private byte _index;
    private bool _nmiMasked;
    private long _offsetTicks;
    private long _lastEventCheckTicks;
    private bool _interruptAsserted;

    /// <param name="wallClock">The host's time of day; called on every time register read.</param>
    /// <param name="irq8">Drives IRQ 8: true raises it, false lowers it. Called on the vCPU thread or from <see cref="Poll"/>.</param>
    public CmosRtc(Func<DateTimeOffset> wallClock, Action<bool> irq8)
    {
        ArgumentNullException.ThrowIfNull(wallClock);
        ArgumentNullException.ThrowIfNull(irq8);
        _wallClock = wallClock;
        _irq8 = irq8;
        _ram[StatusA] = AResetValue;
        _ram[StatusB] = BResetValue;
        _ram[StatusD] = DValidRamAndTime;
        _lastEventCheckTicks = WallTicks();
    }

    /// <summary>Whether the guest has masked NMI through bit 7 of the index port.</summary>
    public bool NmiMasked
    {
        get { lock (_lock) return _nmiMasked; }
    }

    /// <summary>The level this device last drove IRQ 8 to.</summary>
    public bool InterruptAsserted
    {
        get { lock (_lock) return _interruptAsserted; }
    }

    /// <summary>The time the guest sees (frozen while SET is on), as a date and time without zone.</summary>
    public DateTime GuestTime
    {
        get { lock (_lock) return (_ram[StatusB] & BSet) != 0 ? DecodeTimeRegisters() ?? Now() : Now(); }
    }

    /// <summary>
    /// Writes CMOS RAM directly, for the machine to fill firmware configuration bytes (0x0E-0x7F)
    /// before the guest runs. Clock and status registers are the guest's and are refused.
    /// </summary>
    public void SetConfigurationByte(int index, byte value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, StatusD + 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, RamSize);
        if (index == CenturyRegister)
            throw new ArgumentOutOfRangeException(nameof(index), index, "the century register belongs to the clock");
        lock (_lock)
            _ram[index] = value;
    }

    public uint Read(ushort port, int size)
    {
        bool lower;
        uint value = 0;
        lock (_lock)
        {
            bool wasAsserted = _interruptAsserted;
            for (int i = 0; i < size; i++)
                value |= (uint)ReadByte(port + i) << (8 * i);
            lower = wasAsserted && !_interruptAsserted;
        }
        if (lower)
            _irq8(false);
        return value;
    }

    public void Write(ushort port, int size, uint value)
    {
        bool? line;
        lock (_lock)
        {
            bool wasAsserted = _interruptAsserted;
            for (int i = 0; i < size; i++)
                WriteByte(port + i, (byte)(value >> (8 * i)));
            line = wasAsserted == _interruptAsserted ? null : _interruptAsserted;
        }
        if (line is bool level)
            _irq8(level);
    }

    /// <summary>
    /// Brings the interrupt flags up to date and raises IRQ 8 if an enabled event has happened.
    /// Call it when <see cref="NextEventDelay"/> elapses; it is harmless to call at any time.
    /// </summary>
    public void Poll()
    {
        bool raise;
        lock (_lock)
        {
            bool wasAsserted = _interruptAsserted;
            UpdateFlags();
            raise = !wasAsserted && _interruptAsserted;
        }
        if (raise)
            _irq8(true);
    }

    /// <summary>
    /// How long until the next enabled interrupt event (periodic tick, update-ended, or the next
    /// second, at which an alarm may match), or null when no interrupt is enabled or one is already pending.
    /// </summary>
    public TimeSpan? NextEventDelay()
    {
        lock (_lock)
        {
            byte b = _ram[StatusB];
            if (_interruptAsserted || (b & (BPeriodicInterruptEnable | BAlarmInterruptEnable | BUpdateEndedInterruptEnable)) == 0)
                return null;
            long now = WallTicks();
            long best = long.MaxValue;
            long period = PeriodTicks();
            if ((b & BPeriodicInterruptEnable) != 0 && period > 0)
                best = period - Mod(now, period);
            if ((b & BSet) == 0 && (b & (BAlarmInterruptEnable | BUpdateEndedInterruptEnable)) != 0)
            {
                long guest = now + _offsetTicks;
                best = Math.Min(best, TimeSpan.TicksPerSecond - Mod(guest, TimeSpan.TicksPerSecond));
            }
            return best == long.MaxValue ? null : TimeSpan.FromTicks(best);
        }
    }

    public CmosRtcState SaveState()
    {
        lock (_lock)
            return new CmosRtcState(_ram.ToArray(), _index, _nmiMasked, _offsetTicks, _lastEventCheckTicks, _interruptAsserted);
    }

    /// <summary>Why <paramref name="state"/> cannot be restored, or null: lets a machine check every part before it changes any.</summary>
    public static string? FindRestoreProblem(CmosRtcState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Ram is not { Length: RamSize } ? $"saved CMOS RAM must be {RamSize} bytes" : null;
    }

    /// <summary>Restores saved state and drives IRQ 8 to the saved level.</summary>
    public void RestoreState(CmosRtcState state)
    {
        if (FindRestoreProblem(state) is string problem)
            throw new ArgumentException(problem, nameof(state));
        lock (_lock)
        {
            state.Ram.CopyTo(_ram, 0);
            _ram[StatusA] &= AWritableBits;
            _ram[StatusD] = DValidRamAndTime;
            _index = (byte)(state.Index & 0x7F);
            _nmiMasked = state.NmiMasked;
            _offsetTicks = state.GuestOffsetTicks;
            _lastEventCheckTicks = state.LastEventCheckTicks;
            _interruptAsserted = state.InterruptAsserted;
        }
        _irq8(state.InterruptAsserted);
    }

    private byte ReadByte(int port)
    {
        if (port != DataPort)
            return 0xFF; // the index port is write-only on real chipsets; QEMU floats it too
        int index = _index;
        if (IsClockRegister(index))
        {
            // While SET is on the registers hold what the guest wrote; otherwise they show the clock.
            return (_ram[StatusB] & BSet) != 0 ? _ram[index] : EncodeField(index, Now());
        }
        switch (index)
        {
            case StatusA:
                return (byte)(_ram[StatusA] | (UpdateInProgress() ? AUpdateInProgress : 0));
            case StatusC:
                {
                    UpdateFlags();
                    byte c = _ram[StatusC];
                    _ram[StatusC] = 0;
                    _interruptAsserted = false;
                    return c;
                }
            default:
                return _ram[index];
        }
    }

    /// <summary>The time and date registers: they show the running clock unless SET holds them.</summary>
    private static bool IsClockRegister(int index) => index is SecondsRegister or MinutesRegister or HoursRegister
        or DayOfWeekRegister or DayOfMonthRegister or MonthRegister or YearRegister or CenturyRegister;

    private void WriteByte(int port, byte value)
    {
        if (port == IndexPort)
        {
            _nmiMasked = (value & 0x80) != 0;
            _index = (byte)(value & 0x7F);
            return;
        }
        if (port != DataPort)
            return;
        int index = _index;
        if (IsClockRegister(index))
        {
            if ((_ram[StatusB] & BSet) != 0)
            {
                _ram[index] = value;
            }
            else
            {
                // Without SET the change takes effect at once: snapshot the running clock into
                // the registers, apply this one byte, and restart the clock from the result.
                SnapshotTimeRegisters(Now());
                _ram[index] = value;
                StartClockFromRegisters();
            }
            return;
        }
        switch (index)
        {
            case StatusA:
                UpdateFlags(); // periodic ticks up to now count at the old rate
                _ram[StatusA] = (byte)(value & AWritableBits);
                break;
            case StatusB:
                WriteStatusB(value);
                break;
            case StatusC:
            case StatusD:
                break; // read-only
            default:
                _ram[index] = value;
                break;
        }
    }

    private void WriteStatusB(byte value)
    {
        UpdateFlags();
        byte old = _ram[StatusB];
        // Setting SET clears the update-ended enable (datasheet): no updates, so none can end.
        if ((value & BSet) != 0)
            value &= unchecked((byte)~BUpdateEndedInterruptEnable);
        bool setRising = (value & BSet) != 0 && (old & BSet) == 0;
        bool setFalling = (value & BSet) == 0 && (old & BSet) != 0;
        DateTime now = Now();
        _ram[StatusB] = value;
        if (setRising)
            SnapshotTimeRegisters(now); // in the new format, since guests often change both at once
        else if (setFalling)
            StartClockFromRegisters();
        // A newly enabled interrupt whose flag is already up raises IRQ 8 now, as the chip would.
        RecomputeInterrupt();
    }

    private void SnapshotTimeRegisters(DateTime time)
    {
        _ram[SecondsRegister] = EncodeField(SecondsRegister, time);
        _ram[MinutesRegister] = EncodeField(MinutesRegister, time);
        _ram[HoursRegister] = EncodeField(HoursRegister, time);
        _ram[DayOfWeekRegister] = EncodeField(DayOfWeekRegister, time);
        _ram[DayOfMonthRegister] = EncodeField(DayOfMonthRegister, time);
        _ram[MonthRegister] = EncodeField(MonthRegister, time);
        _ram[YearRegister] = EncodeField(YearRegister, time);
        _ram[CenturyRegister] = EncodeField(CenturyRegister, time);
    }

    // The clock restarts at the start of the written second, as the divider chain does when SET
    // drops. Registers that do not form a valid date leave the clock where it was: the guest
    // reads back its own nonsense while SET is on, and real time afterwards.
    private void StartClockFromRegisters()
    {
        if (DecodeTimeRegisters() is not DateTime written)
            return;
        long wall = WallTicks();
        _offsetTicks = written.Ticks - wall;
        _lastEventCheckTicks = wall;
    }

    private DateTime? DecodeTimeRegisters()
    {
        bool binary = (_ram[StatusB] & BBinary) != 0;
        int second = FromRegister(_ram[SecondsRegister], binary);
        int minute = FromRegister(_ram[MinutesRegister], binary);
        int hour = DecodeHour(_ram[HoursRegister], binary, (_ram[StatusB] & B24Hour) != 0);
        int day = FromRegister(_ram[DayOfMonthRegister], binary);
        int month = FromRegister(_ram[MonthRegister], binary);
        int year = FromRegister(_ram[CenturyRegister], binary) * 100 + FromRegister(_ram[YearRegister], binary);
        if (second is < 0 or > 59 || minute is < 0 or > 59 || hour is < 0 or > 23 || month is < 1 or > 12 || year is < 1 or > 9999)
            return null;
        if (day < 1 || day > DateTime.DaysInMonth(year, month))
            return null;
        return new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified);
    }

    private byte EncodeField(int index, DateTime time)
    {
        bool binary = (_ram[StatusB] & BBinary) != 0;
        switch (index)
        {
            case SecondsRegister: return ToRegister(time.Second, binary);
            case MinutesRegister: return ToRegister(time.Minute, binary);
            case HoursRegister:
                if ((_ram[StatusB] & B24Hour) != 0)
                    return ToRegister(time.Hour, binary);
                int hour12 = time.Hour % 12 == 0 ? 12 : time.Hour % 12;
                return (byte)(ToRegister(hour12, binary) | (time.Hour >= 12 ? HourPm : 0));
            case DayOfWeekRegister: return ToRegister((int)time.DayOfWeek + 1, binary); // Sunday = 1
            case DayOfMonthRegister: return ToRegister(time.Day, binary);
            case MonthRegister: return ToRegister(time.Month, binary);
            case YearRegister: return ToRegister(time.Year % 100, binary);
            case CenturyRegister: return ToRegister(time.Year / 100, binary);
            default: return _ram[index];
        }
    }

    private static int DecodeHour(byte value, bool binary, bool twentyFourHour)
    {
        if (twentyFourHour)
            return FromRegister(value, binary);
        int hour12 = FromRegister((byte)(value & ~HourPm), binary);
        if (hour12 is < 1 or > 12)
            return -1;
        return hour12 % 12 + ((value & HourPm) != 0 ? 12 : 0);
    }

    private static byte ToRegister(int value, bool binary) => binary ? (byte)value : (byte)((value / 10 << 4) | (value % 10));

    // -1 for a BCD byte with a digit above 9, so such a write can never become a valid time.
    private static int FromRegister(byte value, bool binary)
    {
        if (binary)
            return value;
        int high = value >> 4, low = value & 0x0F;
        return high > 9 || low > 9 ? -1 : high * 10 + low;
    }

    private bool UpdateInProgress()
    {
        if ((_ram[StatusB] & BSet) != 0)
            return false;
        long guest = WallTicks() + _offsetTicks;
        return Mod(guest, TimeSpan.TicksPerSecond) >= TimeSpan.TicksPerSecond - UpdateInProgressTicks;
    }

    // Sets C's event flags for everything that happened between the last check and now, then
    // the request bit and the line. Flags latch even when their interrupt is disabled, as on the chip.
    private void UpdateFlags()
    {
        long now = WallTicks();
        long last = _lastEventCheckTicks;
        _lastEventCheckTicks = now;
        if (now <= last)
        {
            RecomputeInterrupt(); // the host clock stepped back: nothing new happened
            return;
        }
        long period = PeriodTicks();
        if (period > 0 && now / period != last / period)
            _ram[StatusC] |= CPeriodicFlag;
        if ((_ram[StatusB] & BSet) == 0)
        {
            long lastSecond = (last + _offsetTicks) / TimeSpan.TicksPerSecond;
            long nowSecond = (now + _offsetTicks) / TimeSpan.TicksPerSecond;
            if (nowSecond != lastSecond)
            {
                _ram[StatusC] |= CUpdateEndedFlag;
                if (AlarmMatchedBetween(lastSecond, nowSecond))
                    _ram[StatusC] |= CAlarmFlag;
            }
        }
        RecomputeInterrupt();
    }

    private bool AlarmMatchedBetween(long lastSecond, long nowSecond)
    {
        long first = Math.Max(lastSecond + 1, nowSecond - MaxAlarmScanSeconds);
        for (long s = first; s <= nowSecond; s++)
        {
            if (s < 0 || s * TimeSpan.TicksPerSecond > DateTime.MaxValue.Ticks)
                continue;
            var t = new DateTime(s * TimeSpan.TicksPerSecond, DateTimeKind.Unspecified);
            if (AlarmMatches(SecondsAlarmRegister, SecondsRegister, t)
                && AlarmMatches(MinutesAlarmRegister, MinutesRegister, t)
                && AlarmMatches(HoursAlarmRegister, HoursRegister, t))
                return true;
        }
        return false;
    }

    private bool AlarmMatches(int alarmRegister, int timeRegister, DateTime t)
    {
        byte alarm = _ram[alarmRegister];
        return (alarm & AlarmDontCare) == AlarmDontCare || alarm == EncodeField(timeRegister, t);
    }

    private void RecomputeInterrupt()
    {
        byte c = _ram[StatusC];
        bool request = (c & _ram[StatusB] & (CPeriodicFlag | CAlarmFlag | CUpdateEndedFlag)) != 0;
        _ram[StatusC] = request ? (byte)(c | CInterruptRequest) : (byte)(c & ~CInterruptRequest);
        _interruptAsserted = request;
    }

    // Periodic interrupt period from A's rate select: 32768 Hz >> (rate - 1); rates 1 and 2 are
    // the datasheet's 256 Hz and 128 Hz (they alias rates 8 and 9 on the 32.768 kHz time base).
    private long PeriodTicks()
    {
        int rate = _ram[StatusA] & ARateMask;
        if (rate == 0)
            return 0;
        if (rate <= 2)
            rate += 7;
        long cycles = 1L << (rate - 1);
        return cycles * TimeSpan.TicksPerSecond / 32768;
    }

    private DateTime Now()
    {
        long ticks = WallTicks() + _offsetTicks;
        return new DateTime(Math.Clamp(ticks, 0, DateTime.MaxValue.Ticks), DateTimeKind.Unspecified);
    }

    private long WallTicks() => _wallClock().UtcTicks;

    private static long Mod(long value, long modulus)
    {
        long r = value % modulus;
        return r < 0 ? r + modulus : r;
    }
}
