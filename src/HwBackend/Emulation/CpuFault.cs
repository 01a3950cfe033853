namespace Actors.HwBackend.Emulation;

/// <summary>
/// A guest-visible exception raised while executing an instruction. Thrown out of the instruction
/// handler and delivered through the guest IDT by the run loop, which knows the faulting instruction.
/// Faults are rare, so a throw costs nothing on the paths that do not fault.
/// </summary>
internal sealed class CpuFault : Exception
{
    public CpuFault(byte vector, uint errorCode, bool hasErrorCode)
        : base($"#{ExceptionVector.Name(vector)}")
    {
        Vector = vector;
        ErrorCode = errorCode;
        HasErrorCode = hasErrorCode;
    }

    public byte Vector { get; }

    public uint ErrorCode { get; }

    public bool HasErrorCode { get; }
}
