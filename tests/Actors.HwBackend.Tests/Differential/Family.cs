using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>A group of instruction forms tested together, with its value constraints.</summary>
internal sealed class Family
{
    public required string Name { get; init; }

    /// <summary>Forms for the generic generator (ignored when <see cref="Custom"/> is set).</summary>
    public IReadOnlyList<Code> Codes { get; init; } = [];

    public int Cases { get; init; } = 3000;

    /// <summary>Sets builder knobs after <see cref="CaseBuilder.Begin"/>, before operands are chosen.</summary>
    public Action<CaseBuilder>? Configure { get; init; }

    /// <summary>Adjusts values after operands are chosen; false rejects the case and a new one is drawn.</summary>
    public Func<CaseBuilder, bool>? Adjust { get; init; }

    /// <summary>Builds the whole case itself (state and instruction); null rejects it.</summary>
    public Func<CaseBuilder, Instruction?>? Custom { get; init; }

    /// <summary>Builds the whole case itself from raw bytes (state, code, length of the first instruction).</summary>
    public Func<CaseBuilder, (byte[] Code, int Length)>? CustomRaw { get; init; }

    public override string ToString() => Name;
}
