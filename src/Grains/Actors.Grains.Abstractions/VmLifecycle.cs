namespace Actors.Grains;

/// <summary>Which lifecycle operations are legal in which state, in one place for grains and clients alike.</summary>
public static class VmLifecycle
{
    public static bool CanStart(VmState s) => s is VmState.Defined or VmState.Off or VmState.Failed;

    public static bool CanStop(VmState s) => s is VmState.Running or VmState.Paused or VmState.Starting;

    public static bool CanPause(VmState s) => s is VmState.Running;

    public static bool CanResume(VmState s) => s is VmState.Paused;

    public static bool CanDelete(VmState s) => s is VmState.Defined or VmState.Off or VmState.Failed;

    public static bool CanReconfigure(VmState s) => CanDelete(s);
}
