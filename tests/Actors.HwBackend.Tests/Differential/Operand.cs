using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>One explicit operand of the instruction being generated.</summary>
internal sealed class Operand
{
    public OperandType Type { get; set; }

    public OpCodeOperandKind Kind { get; set; }

    public Register Register { get; set; }

    /// <summary>Value width in bytes: the register's width or the memory operand's size.</summary>
    public int Size { get; set; }

    /// <summary>Effective address of a memory operand.</summary>
    public ulong Address { get; set; }

    public long Immediate { get; set; }

    public bool IsGpr => Type == OperandType.Register && Register.IsGPR();

    public bool IsXmm => Type == OperandType.Register && Register.IsXMM();
}
