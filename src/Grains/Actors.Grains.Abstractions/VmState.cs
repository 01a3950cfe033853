namespace Actors.Grains;

/// <summary>The lifecycle of a partition (VM). <see cref="VmLifecycle"/> says which transitions are legal.</summary>
[GenerateSerializer]
[Alias("Actors.VmState")]
public enum VmState
{
    /// <summary>Configured, never started or deleted-and-recreated.</summary>
    Defined,
    /// <summary>Placed on a host, which is fetching its image and building its machine.</summary>
    Starting,
    /// <summary>Its vCPUs run on its host (also while it live-migrates).</summary>
    Running,
    /// <summary>Its vCPUs are paused; its memory stays on its host.</summary>
    Paused,
    /// <summary>Being stopped: its host is freeing its machine.</summary>
    Stopping,
    /// <summary>Stopped: the guest exited, was stopped, or its host released it.</summary>
    Off,
    /// <summary>Could not start or run; <see cref="VmStatus.FailureReason"/> says why.</summary>
    Failed,
}
