using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Port I/O and MMIO as exits. An IN exits with RIP at the instruction; the host's completion makes
/// the re-executed IN take the value. An MMIO read unwinds the instruction the same way. Writes are
/// posted: the instruction completes, then the exit reports the value.
/// </summary>
internal sealed unsafe partial class Cpu
{
    private bool _portInComplete;
    private ulong _portInValue;

    private bool _mmioComplete;
    private ulong _mmioAddress;
    private ulong _mmioValue;

    public ulong PortExits, MmioExits;

    public void CompletePortIn(ulong value)
    {
        _portInValue = value;
        _portInComplete = true;
    }

    public void CompleteMmioRead(ulong value)
    {
        _mmioValue = value;
        _mmioComplete = true;
    }

    /// <summary>For IN/INS handlers: the completed value, or false after arranging the exit that fetches it.</summary>
    public bool TryTakePortIn(ushort port, int size, out ulong value)
    {
        if (_portInComplete)
        {
            _portInComplete = false;
            value = _portInValue & (size == 4 ? 0xFFFF_FFFFUL : (1UL << (8 * size)) - 1);
            if (_ioBreakpoints != 0) CheckIoBreakpoints(port, size);
            return true;
        }
        value = 0;
        PortExits++;
        PendingExit = new VpExit(VpExitReason.PortIn, port, (byte)size);
        return false;
    }

    public void PortOut(ushort port, int size, ulong value)
    {
        if (_ioBreakpoints != 0) CheckIoBreakpoints(port, size);
        PortExits++;
        PendingExit = new VpExit(VpExitReason.PortOut, port, (byte)size, value);
    }

    private ulong MmioRead(ulong pa, int size)
    {
        if (_mmioComplete && _mmioAddress == pa)
        {
            _mmioComplete = false;
            return size == 8 ? _mmioValue : _mmioValue & ((1UL << (8 * size)) - 1);
        }
        _mmioComplete = false;
        _mmioAddress = pa;
        MmioExits++;
        PendingExit = new VpExit(VpExitReason.MmioRead, pa, (byte)size);
        throw MmioReadPending.Instance;
    }

    private void MmioWrite(ulong pa, int size, ulong value)
    {
        MmioExits++;
        PendingExit = new VpExit(VpExitReason.MmioWrite, pa, (byte)size, value);
        WriteEvent = Handler.Exit;
    }
}
