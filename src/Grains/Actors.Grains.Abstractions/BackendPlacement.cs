namespace Actors.Grains;

/// <summary>
/// Which hardware backend a VM's host must, or should, run its vCPUs on: <c>kvm</c> or <c>emulator</c>, the names a
/// silo's <c>--backend</c> takes and <see cref="HostInfo.Backend"/> reports. Written as hvctl takes it: <c>kvm</c>
/// requires KVM, <c>prefer:kvm</c> prefers it (another backend's host runs the VM when no KVM host has room).
/// </summary>
/// <param name="Backend">The backend's name: <see cref="Kvm"/> or <see cref="Emulator"/>.</param>
/// <param name="Required">True: only a host of that backend runs the VM (start, and a migration's target); false: one is preferred.</param>
[GenerateSerializer]
[Alias("Actors.BackendPlacement")]
public sealed record BackendPlacement(
    [property: Id(0)] string Backend,
    [property: Id(1)] bool Required)
{
    /// <summary>Linux KVM: vCPUs on VT-x/AMD-V.</summary>
    public const string Kvm = "kvm";

    /// <summary>The software CPU.</summary>
    public const string Emulator = "emulator";

    /// <summary>How a preference is written: <c>prefer:kvm</c>.</summary>
    public const string PreferPrefix = "prefer:";

    /// <summary>The backends a VM can ask for.</summary>
    public static IReadOnlyList<string> Backends { get; } = [Kvm, Emulator];

    /// <summary>Requires <paramref name="backend"/>.</summary>
    /// <param name="backend">The backend's name.</param>
    /// <returns>The requirement.</returns>
    public static BackendPlacement Require(string backend) => new(backend, Required: true);

    /// <summary>Prefers <paramref name="backend"/>.</summary>
    /// <param name="backend">The backend's name.</param>
    /// <returns>The preference.</returns>
    public static BackendPlacement Prefer(string backend) => new(backend, Required: false);

    /// <summary>Reads <c>kvm</c>, <c>emulator</c>, <c>prefer:kvm</c> or <c>prefer:emulator</c>.</summary>
    /// <param name="text">What the user wrote.</param>
    /// <param name="placement">The placement read, or null when <paramref name="text"/> is not one.</param>
    /// <param name="problem">Why it is not one, in one line, or null.</param>
    /// <returns>Whether <paramref name="text"/> was read.</returns>
    public static bool TryParse(string text, out BackendPlacement? placement, out string? problem)
    {
        bool prefer = text.StartsWith(PreferPrefix, StringComparison.Ordinal);
        string name = prefer ? text[PreferPrefix.Length..] : text;
        if (!Backends.Contains(name, StringComparer.Ordinal))
        {
            (placement, problem) = (null, $"unknown backend '{text}': use kvm or emulator to require one, prefer:kvm or prefer:emulator to prefer one");
            return false;
        }

        (placement, problem) = (new BackendPlacement(name, !prefer), null);
        return true;
    }

    /// <summary>The first problem with this placement as a one-line message, or null when it is valid.</summary>
    /// <returns>The problem, or null.</returns>
    public string? Validate() =>
        Backends.Contains(Backend, StringComparer.Ordinal) ? null : $"unknown backend '{Backend}': use kvm or emulator";

    /// <summary>Whether a host whose backend is <paramref name="hostBackend"/> may run the VM: any, unless one is required.</summary>
    /// <param name="hostBackend">The host's <see cref="HostInfo.Backend"/>.</param>
    /// <returns>True when it may.</returns>
    public bool Admits(string hostBackend) => !Required || string.Equals(Backend, hostBackend, StringComparison.Ordinal);

    /// <summary>
    /// Why <paramref name="vm"/> cannot be placed among <paramref name="hosts"/> at all, in one line naming the backend
    /// it requires and what the hosts run; null when one of them runs it, or when this is only a preference.
    /// </summary>
    /// <param name="vm">The VM's name.</param>
    /// <param name="hosts">The hosts of the cluster (those that answered).</param>
    /// <returns>The refusal, or null.</returns>
    public string? RefusalAmong(string vm, IReadOnlyCollection<HostInfo> hosts)
    {
        if (!Required || hosts.Any(h => Admits(h.Backend)))
            return null;
        if (hosts.Count == 0)
            return $"VM '{vm}' requires the {Backend} backend, and no hosts have joined the cluster";
        IEnumerable<string> kinds = hosts
            .GroupBy(h => h.Backend, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{string.Join(", ", g.Select(h => h.Host).Order(StringComparer.Ordinal))} {(g.Count() == 1 ? "runs" : "run")} {g.Key}");
        return $"VM '{vm}' requires the {Backend} backend, which no host in the cluster runs ({string.Join("; ", kinds)})";
    }

    /// <summary>As hvctl takes it: <c>kvm</c>, or <c>prefer:kvm</c>.</summary>
    /// <returns>The text form.</returns>
    public override string ToString() => Required ? Backend : PreferPrefix + Backend;
}
