namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>How the software CPU runs guest code.</summary>
public enum CpuTier
{
    /// <summary>Every block is decoded into ops and interpreted: a handler call per instruction.</summary>
    Interpreter,

    /// <summary>Blocks that run often are also compiled to .NET code and run from then on; the rest is interpreted.</summary>
    Translator,
}

/// <summary>The software CPU's tier settings for one machine.</summary>
/// <param name="Tier">Whether hot blocks are translated.</param>
/// <param name="Threshold">How many times a block runs interpreted before it is queued for translation.</param>
/// <param name="MaxRegions">Translated regions a machine keeps; at the cap they are all dropped at once and hot code is translated again.</param>
/// <param name="OnVcpuThread">
/// Translate on the vCPU thread, before the block runs again, instead of on the host's translation
/// thread. For tests: with a threshold of 1 every block runs translated from its first execution on.
/// </param>
public sealed record CpuTierOptions(
    CpuTier Tier = CpuTierOptions.DefaultTier,
    int Threshold = CpuTierOptions.DefaultThreshold,
    int MaxRegions = CpuTierOptions.DefaultMaxRegions,
    bool OnVcpuThread = false)
{
    /// <summary>The tier of a silo, and of a VM, that does not choose: hot code translated, as QEMU TCG does.</summary>
    public const CpuTier DefaultTier = CpuTier.Translator;

    /// <summary>
    /// A region costs the JIT about 2 ms, which one run of it saves only a few nanoseconds of. Measured on the
    /// stock Linux boot: 8000 runs make a third of the regions 1000 made for the same share of translated
    /// instructions, and a boot on 2 vCPUs ends at 4.1-4.5 s instead of 5.3-5.5 s; `compute` runs the same.
    /// </summary>
    public const int DefaultThreshold = 8000;
    public const int DefaultMaxRegions = 65_536;

    public static CpuTierOptions Interpreted { get; } = new(CpuTier.Interpreter);

    /// <summary>Parses a tier's command-line name: interpreter or translator.</summary>
    public static bool TryParseTier(string? text, out CpuTier tier)
    {
        switch (text)
        {
            case "interpreter":
                tier = CpuTier.Interpreter;
                return true;
            case "translator":
                tier = CpuTier.Translator;
                return true;
            default:
                tier = default;
                return false;
        }
    }

    /// <summary>The tier's command-line name.</summary>
    public static string Name(CpuTier tier) => tier == CpuTier.Translator ? "translator" : "interpreter";
}
