namespace Actors.HwBackend.Tests.Differential;

/// <summary>How XMM registers and 128-bit memory operands are filled: integer patterns or float classes.</summary>
internal enum LaneKind
{
    Int,
    Float32,
    Float64,
}
