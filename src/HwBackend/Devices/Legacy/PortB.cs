using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// System control port B (0x61), the PC speaker and PIT channel 2 glue as QEMU's
/// <c>hw/audio/pcspk.c</c> exposes it: bit 0 gates channel 2, bit 1 enables speaker data, bits 2-3
/// (parity/IOCHK check enables) read back, bit 4 is the DRAM refresh toggle, bit 5 is channel 2's
/// output. Linux calibrates the TSC by gating channel 2 here and polling bit 5.
/// </summary>
public sealed class PortB : IPortDevice
{
    public const ushort Port = 0x61;

    private const byte GateBit = 0x01;
    private const byte WritableBits = 0x0E; // speaker data and the two check enables
    private const byte RefreshBit = 0x10;
    private const byte OutputBit = 0x20;

    private readonly Lock _lock = new();
    private readonly Pit8254 _pit;
    private byte _control;
    private bool _refreshToggle;

    public PortB(Pit8254 pit)
    {
        ArgumentNullException.ThrowIfNull(pit);
        _pit = pit;
    }

    /// <summary>Bit 1: whether channel 2's output reaches the speaker (nothing here makes sound).</summary>
    public bool SpeakerEnabled
    {
        get { lock (_lock) return (_control & 0x02) != 0; }
    }

    public uint Read(ushort port, int size)
    {
        if (port != Port)
            return 0xFFFF_FFFF;
        lock (_lock)
        {
            // Real refresh toggles every 15 us; flipping per read gives delay loops that wait for
            // a change (the BIOS's, some bootloaders') forward progress in bounded time.
            _refreshToggle = !_refreshToggle;
            byte value = _control;
            if (_pit.GetGate(2))
                value |= GateBit;
            if (_refreshToggle)
                value |= RefreshBit;
            if (_pit.GetOutput(2))
                value |= OutputBit;
            // Only one register: further bytes of a wide access float.
            return value | 0xFFFF_FF00;
        }
    }

    public void Write(ushort port, int size, uint value)
    {
        if (port != Port)
            return;
        lock (_lock)
        {
            _control = (byte)(value & WritableBits);
            _pit.SetGate(2, (value & GateBit) != 0);
        }
    }

    public PortBState SaveState()
    {
        lock (_lock)
            return new PortBState(_control, _refreshToggle);
    }

    public void RestoreState(PortBState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
        {
            _control = (byte)(state.Control & WritableBits);
            _refreshToggle = state.RefreshToggle;
        }
    }
}
