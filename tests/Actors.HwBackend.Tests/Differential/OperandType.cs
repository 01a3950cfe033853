namespace Actors.HwBackend.Tests.Differential;

/// <summary>Where an operand's value lives.</summary>
internal enum OperandType
{
    Register,
    Memory,
    Immediate,
}
