using System.Diagnostics;
using Actors.Grains.Placement;
using Actors.Grains.Telemetry;

namespace Actors.Grains.Vsp;

/// <summary>
/// The shutdown VSP of one VM (Hyper-V's shutdown integration component on the root's side),
/// placed on the silo of the VM's hardware. The protocol itself, on the VM's shutdown channel,
/// runs in the VM's worker where the channel's rings are; this grain asks it and words the outcome.
/// Stateless: any activation, on any silo, answers the same.
/// </summary>
[HardwareColocatedPlacement]
public sealed class ShutdownVspGrain : Grain, IShutdownVspGrain
{
    private string VmName => this.GetPrimaryKeyString();

    public async Task RequestAsync(string host, GuestShutdownKind kind)
    {
        using Activity? span = HypervisorTracing.Start("ShutdownVsp", VmName, host);
        span?.SetTag("actors.shutdown_kind", kind.ToString());
        GuestShutdownOutcome outcome = await GrainFactory.GetGrain<IVmWorkerGrain>(VmWorkerKey.Format(host, VmName)).RequestGuestShutdownAsync(kind);
        span?.SetTag("actors.guest_answer", outcome.ToString());
        string verb = kind == GuestShutdownKind.Restart ? "restart" : "shut down";
        string? problem = outcome switch
        {
            GuestShutdownOutcome.Accepted => null,
            GuestShutdownOutcome.Refused => $"the guest refused to {verb}",
            GuestShutdownOutcome.NotEnlightened => $"it has no integration services (create it with --hyperv); 'hvctl vm stop' turns it off",
            GuestShutdownOutcome.NoChannel => $"the guest has not opened its shutdown channel (it needs Hyper-V's utility driver, Linux's hv_utils); 'hvctl vm stop' turns it off",
            _ => $"the guest did not answer the request to {verb}; 'hvctl vm stop' turns it off",
        };
        if (problem is not null)
            throw new HypervisorException($"VM '{VmName}' cannot be asked to {verb}: {problem}");
    }
}
