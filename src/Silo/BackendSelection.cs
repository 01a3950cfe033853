using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;

namespace Actors.Silo;

/// <summary>Turns <c>--backend</c> into the backend this silo runs guests on.</summary>
public static class BackendSelection
{
    public static readonly IReadOnlyList<string> Names = ["auto", "kvm", "emulator"];

    public static IHypervisorBackend Create(string name) => name switch
    {
        // KVM is not implemented yet, so the best available backend is always the software CPU.
        "auto" or "emulator" => new EmulatorBackend(),
        "kvm" => throw new SiloConfigurationException("KVM backend not available on this host; use --backend emulator"),
        _ => throw new SiloConfigurationException($"unknown backend '{name}'; use one of: {string.Join(", ", Names)}"),
    };
}
