namespace Actors.Grains;

/// <summary>Where a live migration stands; <see cref="MigrationStatus.Ended"/> once it is Completed or Failed.</summary>
public enum MigrationState
{
    /// <summary>Pre-copying memory while the guest runs on the source; the last pass ends in the switch-over.</summary>
    Copying,

    /// <summary>The guest runs on the target.</summary>
    Completed,

    /// <summary>The migration stopped; <see cref="MigrationStatus.Reason"/> says why and where the VM is.</summary>
    Failed,
}
