namespace Actors.Grains;

/// <summary>
/// The root partition's end of a VM's shutdown integration service (a VSP), keyed by VM name and
/// placed next to the VM's hardware. It asks the guest over the VM's shutdown channel and turns
/// the outcome into an answer a user can act on.
/// </summary>
[Alias("Actors.IShutdownVspGrain")]
public interface IShutdownVspGrain : IGrainWithStringKey
{
    /// <summary>
    /// Asks the guest of the VM running on <paramref name="host"/> to power off or restart, and
    /// returns once it has accepted. Throws <see cref="HypervisorException"/> with the reason when it
    /// did not: no integration services, no channel, a refusal or no answer.
    /// </summary>
    [Alias("Request")]
    Task RequestAsync(string host, GuestShutdownKind kind);
}
