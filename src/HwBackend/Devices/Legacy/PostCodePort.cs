using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// Port 0x80, where firmware writes its power-on self-test progress codes for a diagnostic card
/// and where Linux writes to wait a microsecond between accesses to slow ISA devices
/// (<c>outb_p</c>). The chipset decodes it and nothing answers: writes go nowhere and reads
/// float to all-ones, as on QEMU. It is a device, not a gap, so the port is not reported as unimplemented.
/// </summary>
public sealed class PostCodePort : IPortDevice
{
    public const ushort Port = 0x80;

    public uint Read(ushort port, int size) => 0xFFFF_FFFF;

    public void Write(ushort port, int size, uint value)
    {
    }
}
