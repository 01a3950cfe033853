using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Acpi;

/// <summary>
/// The ACPI fixed hardware a PC OS needs (ACPI 6.x, chapter 4.8): the PM1a event block (status and
/// enable), the PM1a control block (SCI_EN, and SLP_TYP/SLP_EN, whose write of the DSDT's S5
/// value powers the machine off) and the 24-bit PM timer at 3.579545 MHz on guest time. It sits
/// at 0x600 as on QEMU's PIIX4, so the same FADT values work. There is no SMI command port: the
/// machine is always in ACPI mode, so SCI_EN reads 1.
/// </summary>
public sealed class AcpiPowerManagement : IPortDevice
{
    public const ushort BasePort = 0x600;
    public const int PortCount = 12;
    public const ushort EventBlockPort = BasePort;
    public const ushort ControlBlockPort = BasePort + 4;
    public const ushort TimerPort = BasePort + 8;
    public const int EventBlockLength = 4;
    public const int ControlBlockLength = 2;
    public const int TimerLength = 4;

    /// <summary>SLP_TYP for S5 (soft off), as the DSDT's \_S5 package says.</summary>
    public const int SoftOffSleepType = 0;

    public const long TimerHz = 3_579_545;

    private const ushort SciEnable = 1 << 0;
    private const int SleepTypeShift = 10;
    private const ushort SleepTypeMask = 7 << SleepTypeShift;
    private const ushort SleepEnable = 1 << 13;
    private const ushort StatusWriteableBits = 0x8F31; // TMR, BM, GBL, PWRBTN, SLPBTN, RTC, WAK: write 1 to clear
    private const ushort EnableBits = 0x0721; // TMR, GBL, PWRBTN, SLPBTN, RTC
    private const uint TimerMask = 0xFF_FFFF;

    private readonly Lock _lock = new();
    private readonly PlatformClock _clock;
    private readonly Action _powerOff;
    private ushort _status;
    private ushort _enable;
    private ushort _control = SciEnable;

    /// <param name="powerOff">Called on the vCPU thread when the guest enters S5. Other sleep states are not in the DSDT, so a guest that asks for one anyway just carries on.</param>
    public AcpiPowerManagement(PlatformClock clock, Action powerOff)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(powerOff);
        _clock = clock;
        _powerOff = powerOff;
    }

    /// <summary>The PM timer's count now: guest nanoseconds at 3.579545 MHz, 24 bits wide.</summary>
    public uint TimerValue => (uint)((UInt128)(ulong)_clock.NowNanoseconds * TimerHz / 1_000_000_000) & TimerMask;

    public uint Read(ushort port, int size)
    {
        int offset = port - BasePort;
        if (offset >= TimerPort - BasePort)
        {
            uint timer = TimerValue >> (8 * (offset - (TimerPort - BasePort)));
            return size >= 4 ? timer : timer & ((1u << (8 * size)) - 1);
        }
        lock (_lock)
        {
            uint value = 0;
            for (int i = 0; i < size; i++)
                value |= (uint)ReadByte(offset + i) << (8 * i);
            return value;
        }
    }

    public void Write(ushort port, int size, uint value)
    {
        int offset = port - BasePort;
        bool powerOff = false;
        lock (_lock)
        {
            // Whole registers at a time: SLP_TYP and SLP_EN arrive together in one 16-bit write.
            ushort status = (ushort)(_status & ~(Bytes(offset, size, value, 0) & StatusWriteableBits));
            _status = status;
            if (Touches(offset, size, 2))
                _enable = (ushort)(Merge(_enable, offset, size, value, 2) & EnableBits);
            if (Touches(offset, size, 4))
            {
                ushort control = Merge(_control, offset, size, value, 4);
                powerOff = (control & SleepEnable) != 0 && (control & SleepTypeMask) >> SleepTypeShift == SoftOffSleepType;
                _control = (ushort)((control & ~SleepEnable) | SciEnable);
            }
        }

        if (powerOff)
            _powerOff();
    }

    public AcpiPowerManagementState SaveState()
    {
        lock (_lock)
            return new AcpiPowerManagementState(_status, _enable, _control);
    }

    public void RestoreState(AcpiPowerManagementState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
        {
            _status = (ushort)(state.Status & StatusWriteableBits);
            _enable = (ushort)(state.Enable & EnableBits);
            _control = (ushort)((state.Control & ~SleepEnable) | SciEnable);
        }
    }

    private byte ReadByte(int offset) => offset switch
    {
        0 => (byte)_status,
        1 => (byte)(_status >> 8),
        2 => (byte)_enable,
        3 => (byte)(_enable >> 8),
        4 => (byte)_control,
        5 => (byte)(_control >> 8),
        _ => 0xFF,
    };

    private static bool Touches(int offset, int size, int register) => offset < register + 2 && offset + size > register;

    /// <summary>The bytes of a write that land in the 16-bit register at <paramref name="register"/>.</summary>
    private static ushort Bytes(int offset, int size, uint value, int register) => Merge(0, offset, size, value, register);

    private static ushort Merge(ushort current, int offset, int size, uint value, int register)
    {
        for (int i = 0; i < size; i++)
        {
            int at = offset + i - register;
            if (at is 0 or 1)
            {
                uint keep = current & ~(0xFFu << (8 * at));
                current = (ushort)(keep | (((value >> (8 * i)) & 0xFF) << (8 * at)));
            }
        }

        return current;
    }
}
