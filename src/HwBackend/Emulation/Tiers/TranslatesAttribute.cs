namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>What an instruction does with the six arithmetic flags, for the translator's flag liveness.</summary>
internal enum FlagEffect
{
    /// <summary>Neither reads nor writes them.</summary>
    None,

    /// <summary>Writes all six without reading any (given an operation that does not read them, see <c>IAluOp.ReadsFlags</c>).</summary>
    WritesAll,

    /// <summary>Reads some, or writes some and keeps others: they must be up to date before it runs.</summary>
    Reads,
}

/// <summary>
/// Marks a template: the semantics of handler <see cref="Handler"/> of the same class with the op's fields as
/// parameters (<c>r1</c>, <c>r2</c>, <c>imm</c>, <c>nextIp</c>, <c>aux</c>, and <c>la</c> for the memory operand's
/// linear address or <c>offset</c> for its effective address), which the handler calls with its op's fields and a
/// translated block calls with constants, for the JIT to fold. A template with a generic parameter beyond the
/// handler's takes an <c>IFlagsMode</c> there. One that returns nothing always continues with the next instruction.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class TranslatesAttribute(string handler) : Attribute
{
    public string Handler { get; } = handler;

    /// <summary>Whether it can raise a fault (it reads or writes memory, or divides).</summary>
    public bool Faults { get; init; }

    public FlagEffect Flags { get; init; }
}
