namespace Actors.HwBackend.Enlightenments;

/// <summary>Hypercall result codes (TLFS, HV_STATUS): the low 16 bits of the result value.</summary>
public enum HvStatus : ushort
{
    Success = 0x0,
    InvalidHypercallCode = 0x2,
    InvalidHypercallInput = 0x3,
    InvalidAlignment = 0x4,
    InvalidParameter = 0x5,
    AccessDenied = 0x6,
    InvalidConnectionId = 0x12,
    InsufficientBuffers = 0x13,
}
