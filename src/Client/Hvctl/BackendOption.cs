using System.CommandLine;
using Actors.Grains;

namespace Actors.Hvctl;

/// <summary>
/// <c>--backend</c> on the commands that define a VM: the backend its host must run (<c>kvm</c>, <c>emulator</c>) or
/// should run (<c>prefer:kvm</c>, <c>prefer:emulator</c>), in the words a silo's <c>--backend</c> uses.
/// </summary>
internal static class BackendOption
{
    /// <summary>Every placement hvctl takes, in the order help and completion list them.</summary>
    public static readonly string[] Placements =
        [BackendPlacement.Kvm, BackendPlacement.Emulator, BackendPlacement.PreferPrefix + BackendPlacement.Kvm, BackendPlacement.PreferPrefix + BackendPlacement.Emulator];

    /// <summary><c>vm create --backend</c>: no value means any host.</summary>
    public static Option<string?> ForCreate()
    {
        var option = new Option<string?>("--backend")
        {
            Description = "the backend the VM's host must run (kvm, emulator: refused when no host runs it), or should run when one has room (prefer:kvm, prefer:emulator); any host by default",
            HelpName = "backend",
        };
        option.AcceptOnlyFromAmong(Placements);
        return option;
    }

    /// <summary>The placement <paramref name="text"/> names; null for none (or <c>auto</c>, <c>run</c>'s default).</summary>
    public static BackendPlacement? Parse(string? text)
    {
        if (text is null or "auto")
            return null;
        if (!BackendPlacement.TryParse(text, out BackendPlacement? placement, out string? problem))
            throw new UsageException($"--backend: {problem}");
        return placement;
    }
}
