using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// The two chipset reset paths PC guests use besides the keyboard controller: System Control
/// Port A at 0x92 (bit 0 is "fast reset" on a 0→1 edge, bit 1 the fast A20 gate) and the PIIX/ICH
/// Reset Control Register at 0xCF9 (writing bit 2 resets, bits 1 and 3 choose hard/full over
/// soft). Register this device at each of the two ports; it tells them apart by the absolute port.
/// Neither port resets anything itself: it only asks the machine through the callback, which
/// runs on the vCPU thread.
/// </summary>
public sealed class ResetControl : IPortDevice
{
    public const ushort SystemControlPortA = 0x92;
    public const ushort ResetControlPort = 0xCF9;

    public const string FastResetReason = "port 0x92 fast reset";
    public const string SoftResetReason = "port 0xCF9 soft reset";
    public const string HardResetReason = "port 0xCF9 hard reset";

    private const byte PortAFastReset = 0x01;
    private const byte PortAA20Gate = 0x02;

    private const byte RcrSystemReset = 0x02;
    private const byte RcrResetCpu = 0x04;
    private const byte RcrFullReset = 0x08;

    // Only the reset-type bits stick; bit 2 is a command, as in the PIIX datasheet and QEMU.
    private const byte RcrStoredBits = RcrSystemReset | RcrFullReset;

    // A20 starts enabled: this machine never masks address line 20, and a guest that reads the
    // gate before touching it should see the truth. Guests that enable it read-modify-write anyway.
    private const byte PortAResetValue = PortAA20Gate;

    private readonly Lock _lock = new();
    private readonly Action<string> _requestReset;
    private byte _portA = PortAResetValue;
    private byte _rcr;

    /// <param name="requestReset">Called on the vCPU thread with a short reason when the guest asks for a reset.</param>
    public ResetControl(Action<string> requestReset)
    {
        ArgumentNullException.ThrowIfNull(requestReset);
        _requestReset = requestReset;
    }

    /// <summary>Port 0x92 bit 1. Informational: the machine does not wrap addresses at 1 MiB.</summary>
    public bool A20Enabled
    {
        get { lock (_lock) return (_portA & PortAA20Gate) != 0; }
    }

    public uint Read(ushort port, int size)
    {
        lock (_lock)
        {
            uint value = 0;
            for (int i = 0; i < size; i++)
                value |= (uint)ReadByte(port + i) << (8 * i);
            return value;
        }
    }

    public void Write(ushort port, int size, uint value)
    {
        string? reason = null;
        lock (_lock)
        {
            for (int i = 0; i < size; i++)
                reason = WriteByte(port + i, (byte)(value >> (8 * i))) ?? reason;
        }
        // Outside the lock: the machine may tear down or reset devices, including this one.
        if (reason is not null)
            _requestReset(reason);
    }

    /// <summary>What a machine reset does to the registers: the reset bit drops so the next 0→1 edge resets again.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _portA &= unchecked((byte)~PortAFastReset);
            _rcr = 0;
        }
    }

    public ResetControlState SaveState()
    {
        lock (_lock)
            return new ResetControlState(_portA, _rcr);
    }

    public void RestoreState(ResetControlState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
        {
            _portA = state.SystemControlPortA;
            _rcr = (byte)(state.ResetControlRegister & RcrStoredBits);
        }
    }

    private byte ReadByte(int port) => port switch
    {
        SystemControlPortA => _portA,
        ResetControlPort => _rcr,
        _ => 0xFF, // a wide access spilling onto ports this device does not decode
    };

    private string? WriteByte(int port, byte value)
    {
        switch (port)
        {
            case SystemControlPortA:
                {
                    bool rising = (value & PortAFastReset) != 0 && (_portA & PortAFastReset) == 0;
                    _portA = value;
                    return rising ? FastResetReason : null;
                }
            case ResetControlPort:
                _rcr = (byte)(value & RcrStoredBits);
                if ((value & RcrResetCpu) == 0)
                    return null;
                return (value & (RcrSystemReset | RcrFullReset)) != 0 ? HardResetReason : SoftResetReason;
            default:
                return null;
        }
    }
}
