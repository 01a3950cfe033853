namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>How a machine's software CPU runs its guest, and what the translating tier did.</summary>
/// <param name="Tier">The machine's tier.</param>
/// <param name="Statistics">The translating tier's counters; null on the interpreter.</param>
/// <param name="InstructionsTranslated">Instructions retired in translated code.</param>
public sealed record CpuTierReport(CpuTier Tier, TierStatistics? Statistics, ulong InstructionsTranslated)
{
    /// <summary>One line for people: the tier and, for the translator, its counters and the share of instructions it ran.</summary>
    public string Describe(ulong instructionsRetired)
    {
        if (Statistics is not { } t)
            return CpuTierOptions.Name(Tier);
        double share = instructionsRetired == 0 ? 0 : 100.0 * InstructionsTranslated / instructionsRetired;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{CpuTierOptions.Name(Tier)}: {t.RegionsTranslated} regions translated, {t.RegionsEvicted} evicted, {share:F0}% of instructions in translated code, {t.TranslationTime.TotalMilliseconds:F0} ms translating");
    }
}
