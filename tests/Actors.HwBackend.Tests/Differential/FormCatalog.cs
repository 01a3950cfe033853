using Iced.Intel;

namespace Actors.HwBackend.Tests.Differential;

/// <summary>Selects Iced <see cref="Code"/> forms by mnemonic for the generic generator.</summary>
internal static class FormCatalog
{
    private static readonly Code[] AllCodes = Enum.GetValues<Code>();

    /// <summary>
    /// Legacy-encoded 64-bit-mode forms of the mnemonics that the generator can fill in.
    /// Undocumented aliases (TEST F6 /1, SAL /6) and forms outside <paramref name="features"/>
    /// (when given) are left out.
    /// </summary>
    public static Code[] Of(Mnemonic[] mnemonics, CpuidFeature[]? features = null, Func<Code, bool>? where = null)
    {
        var set = new HashSet<Mnemonic>(mnemonics);
        var result = new List<Code>();
        foreach (var code in AllCodes)
        {
            if (!set.Contains(code.Mnemonic()))
                continue;
            var oc = code.ToOpCode();
            if (oc.Encoding != EncodingKind.Legacy || !oc.Mode64 || !oc.IsInstruction)
                continue;
            string name = code.ToString();
            if (name.EndsWith("_F6r1", StringComparison.Ordinal) || name.EndsWith("_F7r1", StringComparison.Ordinal))
                continue;
            if (!CaseBuilder.IsSupported(code))
                continue;
            if (features is not null)
            {
                var probe = new Instruction { Code = code };
                if (!probe.CpuidFeatures.All(f => features.Contains(f)))
                    continue;
            }
            if (where is not null && !where(code))
                continue;
            result.Add(code);
        }
        if (result.Count == 0)
            throw new InvalidOperationException($"no forms for {string.Join(", ", mnemonics)}");
        return [.. result];
    }

    public static readonly CpuidFeature[] Sse12 = [CpuidFeature.SSE, CpuidFeature.SSE2];
}
