using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Kvm;

namespace Actors.Silo;

/// <summary>
/// Turns <c>--backend</c> into the backend this silo runs guests on: <c>kvm</c> (Linux KVM, refused with one line
/// where <c>/dev/kvm</c> does not open), <c>emulator</c> (the software CPU), or <c>auto</c>, KVM where it opens and
/// the software CPU elsewhere. <see cref="Choice.Why"/> says what was chosen and why, for the silo's log.
/// </summary>
public static class BackendSelection
{
    public static readonly IReadOnlyList<string> Names = ["auto", "kvm", "emulator"];

    public sealed record Choice(IHypervisorBackend Backend, string Why);

    public static Choice Create(string name, CpuTier cpuTier = CpuTierOptions.DefaultTier)
    {
        var tier = new CpuTierOptions(cpuTier);
        switch (name)
        {
            case "emulator":
                return new(new EmulatorBackend(tier), $"the software CPU ({CpuTierOptions.Name(cpuTier)}), as asked (--backend emulator)");
            case "kvm":
                try
                {
                    return new(KvmBackend.Open(), "KVM, as asked (--backend kvm)");
                }
                catch (KvmException e)
                {
                    throw new SiloConfigurationException($"--backend kvm: {e.Message}; use --backend emulator or auto");
                }

            case "auto":
                return KvmBackend.TryOpen(out string? whyNot) is { } kvm
                    ? new(kvm, "KVM, because /dev/kvm opens (--backend auto)")
                    : new(new EmulatorBackend(tier), $"the software CPU ({CpuTierOptions.Name(cpuTier)}), because {whyNot} (--backend auto)");
            default:
                throw new SiloConfigurationException($"unknown backend '{name}'; use one of: {string.Join(", ", Names)}");
        }
    }
}
