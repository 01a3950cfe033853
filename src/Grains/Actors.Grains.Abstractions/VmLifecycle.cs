namespace Actors.Grains;

/// <summary>Which lifecycle operations are legal in which state, in one place for grains and clients alike.</summary>
public static class VmLifecycle
{
    /// <summary>Whether a VM in state <paramref name="s"/> may start: it is Defined, Off or Failed.</summary>
    public static bool CanStart(VmState s) => s is VmState.Defined or VmState.Off or VmState.Failed;

    /// <summary>Whether a VM in state <paramref name="s"/> may be stopped: it is Starting, Running or Paused.</summary>
    public static bool CanStop(VmState s) => s is VmState.Running or VmState.Paused or VmState.Starting;

    /// <summary>Whether a VM in state <paramref name="s"/> may be paused: it is Running.</summary>
    public static bool CanPause(VmState s) => s is VmState.Running;

    /// <summary>Whether a VM in state <paramref name="s"/> may be resumed: it is Paused.</summary>
    public static bool CanResume(VmState s) => s is VmState.Paused;

    /// <summary>Whether a VM in state <paramref name="s"/> may be deleted: nothing of it runs (Defined, Off or Failed).</summary>
    public static bool CanDelete(VmState s) => s is VmState.Defined or VmState.Off or VmState.Failed;

    /// <summary>Whether a VM in state <paramref name="s"/> may be replaced by a new definition: when it could be deleted.</summary>
    public static bool CanReconfigure(VmState s) => CanDelete(s);
}
