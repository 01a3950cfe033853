using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// The 8042 keyboard controller at ports 0x60 (data) and 0x64 (status and commands), as far as a
/// machine with no keyboard and no mouse needs it: its command byte, its self-tests, the A20 gate
/// on its output port, and the oldest reset path of the PC, a pulse of output port bit 0 (command
/// 0xFE, or 0xD1 with bit 0 clear), which Linux's <c>reboot=k</c> and its fallback after the ACPI
/// reset register use. Nothing is plugged into its two ports: a byte sent to the keyboard or the
/// mouse times out (status bit 6), as on a controller with its cable pulled. Replies are polled:
/// with no device behind it, nothing here raises IRQ 1 or 12. The FADT says the 8042 is absent,
/// so Linux does not probe for a keyboard; it still finds this controller when it resets.
/// Unknown commands are ignored, as the chip ignores them.
/// </summary>
public sealed class KeyboardController : IPortDevice
{
    public const ushort DataPort = 0x60;
    public const ushort CommandPort = 0x64;

    public const string PulseResetReason = "i8042 reset pulse";
    public const string OutputPortResetReason = "i8042 output port reset";

    // Status register bits.
    private const byte OutputFull = 0x01;
    private const byte SystemFlag = 0x04;
    private const byte LastWriteWasCommand = 0x08;
    private const byte KeyboardNotInhibited = 0x10;
    private const byte Timeout = 0x40;

    // Command byte bits.
    private const byte CommandByteSystemFlag = 0x04;
    private const byte CommandByteKeyboardDisabled = 0x10;
    private const byte CommandByteMouseDisabled = 0x20;

    // Output port bits: bit 0 high keeps the CPU out of reset, bit 1 is the A20 gate.
    private const byte OutputPortResetHigh = 0x01;
    private const byte OutputPortA20 = 0x02;

    // What a BIOS leaves: self-test passed, translation on, interrupts on, both ports enabled.
    private const byte FirmwareCommandByte = 0x45;
    private const byte FirmwareOutputPort = OutputPortResetHigh | OutputPortA20;

    private const byte SelfTestPassed = 0x55;
    private const byte InterfaceTestPassed = 0x00;

    private readonly Lock _lock = new();
    private readonly Action<string> _requestReset;
    private KeyboardControllerState _state = new(SystemFlag | KeyboardNotInhibited, FirmwareCommandByte, FirmwareOutputPort, PendingCommand: 0, OutputBuffer: 0);

    /// <param name="requestReset">Called on the vCPU thread, outside the device's lock, when the guest pulses the reset line.</param>
    public KeyboardController(Action<string> requestReset)
    {
        ArgumentNullException.ThrowIfNull(requestReset);
        _requestReset = requestReset;
    }

    /// <summary>Output port bit 1. Informational: the machine does not wrap addresses at 1 MiB.</summary>
    public bool A20Enabled
    {
        get { lock (_lock) return (_state.OutputPort & OutputPortA20) != 0; }
    }

    public uint Read(ushort port, int size)
    {
        lock (_lock)
        {
            // One register per port: further bytes of a wide access float.
            byte value = port == DataPort ? ReadData() : _state.Status;
            return value | 0xFFFF_FF00;
        }
    }

    public void Write(ushort port, int size, uint value)
    {
        string? reason;
        lock (_lock)
            reason = port == CommandPort ? RunCommand((byte)value) : WriteData((byte)value);
        // Outside the lock: the machine may tear down or reset devices, including this one.
        if (reason is not null)
            _requestReset(reason);
    }

    public KeyboardControllerState SaveState()
    {
        lock (_lock)
            return _state;
    }

    public void RestoreState(KeyboardControllerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
            _state = state;
    }

    private byte ReadData()
    {
        byte value = _state.OutputBuffer;
        _state = _state with { Status = (byte)(_state.Status & ~OutputFull) };
        return value;
    }

    private string? RunCommand(byte command)
    {
        _state = _state with { Status = (byte)(_state.Status | LastWriteWasCommand), PendingCommand = 0 };
        switch (command)
        {
            case 0x20: // read the command byte
                Reply(_state.CommandByte);
                return null;
            case 0x60: // write the command byte: the next data byte
            case 0xD1: // write the output port
            case 0xD2: // write to the keyboard's output buffer, as if the keyboard sent it
            case 0xD3: // the same for the mouse
            case 0xD4: // send the next data byte to the mouse
                _state = _state with { PendingCommand = command };
                return null;
            case 0xA7:
                SetCommandByte((byte)(_state.CommandByte | CommandByteMouseDisabled));
                return null;
            case 0xA8:
                SetCommandByte((byte)(_state.CommandByte & ~CommandByteMouseDisabled));
                return null;
            case 0xA9: // mouse interface test
            case 0xAB: // keyboard interface test
                Reply(InterfaceTestPassed);
                return null;
            case 0xAA:
                _state = _state with { Status = (byte)(_state.Status | SystemFlag) };
                Reply(SelfTestPassed);
                return null;
            case 0xAD:
                SetCommandByte((byte)(_state.CommandByte | CommandByteKeyboardDisabled));
                return null;
            case 0xAE:
                SetCommandByte((byte)(_state.CommandByte & ~CommandByteKeyboardDisabled));
                return null;
            case 0xC0: // read the input port: no jumpers, keyboard not inhibited
                Reply(0x80);
                return null;
            case 0xD0:
                Reply(_state.OutputPort);
                return null;
            case 0xDD: // A20 off, A20 on (HP-style shortcuts some firmware uses)
            case 0xDF:
                SetOutputPort((byte)((_state.OutputPort & ~OutputPortA20) | (command == 0xDF ? OutputPortA20 : 0)));
                return null;
            case >= 0xF0:
                // Pulse the output port bits whose command bits are 0 (bits 0-3); bit 0 is the CPU's reset line.
                return (command & OutputPortResetHigh) == 0 ? PulseResetReason : null;
            default:
                return null;
        }
    }

    private string? WriteData(byte value)
    {
        byte command = _state.PendingCommand;
        _state = _state with { Status = (byte)(_state.Status & ~LastWriteWasCommand), PendingCommand = 0 };
        switch (command)
        {
            case 0x60:
                SetCommandByte(value);
                return null;
            case 0xD1:
                return SetOutputPort(value);
            case 0xD2:
            case 0xD3:
                Reply(value);
                return null;
            default:
                // For the keyboard (no command pending) or the mouse (0xD4): nothing is plugged in.
                _state = _state with { Status = (byte)(_state.Status | Timeout) };
                return null;
        }
    }

    private void SetCommandByte(byte value)
    {
        byte status = (byte)((_state.Status & ~SystemFlag) | (value & CommandByteSystemFlag));
        _state = _state with { CommandByte = value, Status = status };
    }

    /// <summary>Writes the output port; bit 0 low holds the CPU in reset.</summary>
    private string? SetOutputPort(byte value)
    {
        _state = _state with { OutputPort = (byte)(value | OutputPortResetHigh) };
        return (value & OutputPortResetHigh) == 0 ? OutputPortResetReason : null;
    }

    private void Reply(byte value) =>
        _state = _state with { OutputBuffer = value, Status = (byte)((_state.Status | OutputFull) & ~Timeout) };
}
