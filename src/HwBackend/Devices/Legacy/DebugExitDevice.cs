using Actors.HwBackend.Platform;

namespace Actors.HwBackend.Devices.Legacy;

/// <summary>
/// QEMU's isa-debug-exit (hw/misc/debugexit.c) as test guests use it at port 0xF4: writing v
/// asks the host to stop the machine with exit status (v &lt;&lt; 1) | 1. The odd encoding is QEMU's,
/// chosen so a guest can never produce status 0; we keep it so guests' expected codes match.
/// </summary>
public sealed class DebugExitDevice : IPortDevice
{
    public const ushort DefaultPort = 0xF4;
    public const int PortCount = 4;

    private readonly Action<int> _requestExit;

    /// <param name="requestExit">Called on the vCPU thread with the exit status, for example <c>GuestRunner.RequestGuestExit</c>.</param>
    public DebugExitDevice(Action<int> requestExit)
    {
        ArgumentNullException.ThrowIfNull(requestExit);
        _requestExit = requestExit;
    }

    public static int ExitStatusFor(uint value) => unchecked((int)((value << 1) | 1));

    /// <summary>The device has no readable register; reads float like an empty port.</summary>
    public uint Read(ushort port, int size) => 0xFFFF_FFFF;

    public void Write(ushort port, int size, uint value) => _requestExit(ExitStatusFor(value));
}
