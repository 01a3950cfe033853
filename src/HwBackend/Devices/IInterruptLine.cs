namespace Actors.HwBackend.Devices;

/// <summary>
/// One ISA interrupt input as a device sees it. Level-triggered sources hold the line while they
/// want service; edge-triggered sources pulse it (assert, then deassert), since an edge input
/// latches the rising edge and ignores how long the line stays high.
/// </summary>
public interface IInterruptLine
{
    void SetLevel(bool asserted);
}
