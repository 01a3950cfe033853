namespace Actors.Grains.Partitions;

/// <summary>
/// The refusal for each lifecycle operation in each state, worded so a user knows what to do next.
/// Legality itself comes from <see cref="VmLifecycle"/>, which clients share.
/// </summary>
public static class LifecycleRules
{
    public static string UnknownVm(string vm) => $"no VM named '{vm}'";

    public static void EnsureCanReplace(string vm, VmState state)
    {
        if (!VmLifecycle.CanReconfigure(state))
            throw new HypervisorException($"VM '{vm}' is {state}; stop it first");
    }

    public static void EnsureCanStart(string vm, VmState state)
    {
        if (!VmLifecycle.CanStart(state))
            throw new HypervisorException(state == VmState.Paused
                ? $"VM '{vm}' is Paused; resume it instead"
                : $"VM '{vm}' is {state}; stop it first");
    }

    public static void EnsureCanStop(string vm, VmState state)
    {
        if (!VmLifecycle.CanStop(state))
            throw new HypervisorException($"VM '{vm}' is {state}; start it first");
    }

    public static void EnsureCanPause(string vm, VmState state)
    {
        if (!VmLifecycle.CanPause(state))
            throw new HypervisorException($"VM '{vm}' is {state}; only a Running VM can be paused");
    }

    public static void EnsureCanResume(string vm, VmState state)
    {
        if (!VmLifecycle.CanResume(state))
            throw new HypervisorException($"VM '{vm}' is {state}; only a Paused VM can be resumed");
    }

    public static void EnsureCanAskGuest(string vm, VmState state)
    {
        if (state != VmState.Running)
            throw new HypervisorException($"VM '{vm}' is {state}; only a Running guest's integration services can be asked");
    }

    public static void EnsureCanDelete(string vm, VmState state)
    {
        if (!VmLifecycle.CanDelete(state))
            throw new HypervisorException($"VM '{vm}' is {state}; stop it first");
    }

    public static void EnsureHasConsole(string vm, VmState state)
    {
        if (state is not (VmState.Running or VmState.Paused))
            throw new HypervisorException($"VM '{vm}' is {state}; start it first");
    }

    /// <summary>Exit reports only matter while the VM is meant to run; after a stop they are late echoes.</summary>
    public static bool AcceptsExitReport(VmState state) => state is VmState.Running or VmState.Paused or VmState.Starting;
}
