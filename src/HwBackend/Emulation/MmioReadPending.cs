namespace Actors.HwBackend.Emulation;

/// <summary>
/// Unwinds an instruction that read MMIO: the run loop returns an MMIO-read exit with RIP still at
/// the instruction, and when the host completes the read the instruction runs again and gets the value.
/// </summary>
internal sealed class MmioReadPending : Exception
{
    public static readonly MmioReadPending Instance = new();
}
