namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>What a machine's translating tier has done so far.</summary>
/// <param name="RegionsTranslated">Regions (a hot block and the blocks it chains to) compiled since the machine started.</param>
/// <param name="RegionsEvicted">Translated regions dropped at the machine's or the host's cap.</param>
/// <param name="TranslationFailures">Regions the compiler refused; their blocks stay interpreted.</param>
/// <param name="RegionsLive">Translated regions currently usable.</param>
/// <param name="TranslationTime">Time spent compiling, on whichever thread did it.</param>
public sealed record TierStatistics(long RegionsTranslated, long RegionsEvicted, long TranslationFailures, long RegionsLive, TimeSpan TranslationTime);
