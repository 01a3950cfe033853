namespace Actors.Grains;

/// <summary>The lifecycle of a partition (VM). <see cref="VmLifecycle"/> says which transitions are legal.</summary>
[GenerateSerializer]
[Alias("Actors.VmState")]
public enum VmState
{
    /// <summary>Configured, never started or deleted-and-recreated.</summary>
    Defined,
    Starting,
    Running,
    Paused,
    Stopping,
    /// <summary>Stopped: the guest exited, was stopped, or its host released it.</summary>
    Off,
    /// <summary>Could not start or run; <see cref="VmStatus.FailureReason"/> says why.</summary>
    Failed,
}
