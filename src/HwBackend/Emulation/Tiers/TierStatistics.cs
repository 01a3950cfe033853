namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>What a machine's translating tier has done so far.</summary>
/// <param name="BlocksTranslated">Blocks compiled since the machine started.</param>
/// <param name="BlocksEvicted">Translated blocks dropped at the machine's or the host's cap.</param>
/// <param name="TranslationFailures">Blocks the compiler refused; they stay interpreted.</param>
/// <param name="BlocksLive">Translated blocks currently usable.</param>
/// <param name="TranslationTime">Time spent compiling, on whichever thread did it.</param>
public sealed record TierStatistics(long BlocksTranslated, long BlocksEvicted, long TranslationFailures, long BlocksLive, TimeSpan TranslationTime);
