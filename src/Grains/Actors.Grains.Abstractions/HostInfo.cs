namespace Actors.Grains;

/// <summary>A host (silo) and what its hardware backend offers.</summary>
/// <param name="Host">The host's name, as its silo registered it (<c>--host</c>).</param>
/// <param name="Backend">The name of the hardware backend that runs vCPUs there ("emulator" for the software CPU), or <see cref="UnreachableBackend"/> when the host did not answer.</param>
/// <param name="Cores">The host's logical processors.</param>
/// <param name="MemoryTotalBytes">The guest RAM the host may give to VMs, in bytes.</param>
/// <param name="MemoryFreeBytes">What of that is not reserved by a VM now, in bytes.</param>
/// <param name="RunningVms">The names of the VMs whose machines are on the host now (running, paused or arriving).</param>
/// <param name="Capabilities">What the host's backend offers; null for a host that did not answer (or a silo too old to say).</param>
[GenerateSerializer]
[Alias("Actors.HostInfo")]
public sealed record HostInfo(
    [property: Id(0)] string Host,
    [property: Id(1)] string Backend,
    [property: Id(2)] int Cores,
    [property: Id(3)] ulong MemoryTotalBytes,
    [property: Id(4)] ulong MemoryFreeBytes,
    [property: Id(5)] IReadOnlyList<string> RunningVms,
    [property: Id(6)] HostCapabilities? Capabilities = null)
{
    /// <summary>What <see cref="Backend"/> says of a registered host that did not answer.</summary>
    public const string UnreachableBackend = "unreachable";

    /// <summary>Whether the host answered (its backend is known).</summary>
    public bool Answered => Backend != UnreachableBackend;

    /// <summary>A registered host that did not answer: nothing known but its name.</summary>
    /// <param name="host">The host's name.</param>
    /// <returns>Its entry, with <see cref="UnreachableBackend"/> and nothing to offer.</returns>
    public static HostInfo Unreachable(string host) => new(host, UnreachableBackend, 0, 0, 0, []);
}
