namespace Actors.HwBackend.Tests.Differential;

/// <summary>Every family, for the host-only self-tests.</summary>
internal static class AllFamilies
{
    public static IReadOnlyList<Family> List { get; } = [.. IntegerFamilies.All, .. StringFamilies.All, .. ControlFlowFamilies.All, .. PrefixFamilies.All, .. SseFamilies.All];
}
