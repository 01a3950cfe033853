namespace Actors.Grains;

public enum MigrationState
{
    /// <summary>Pre-copying memory while the guest runs on the source.</summary>
    Copying,

    /// <summary>The guest is stopped; the last pages and the machine state are moving.</summary>
    SwitchingOver,

    /// <summary>The guest runs on the target.</summary>
    Completed,

    /// <summary>The migration stopped; <see cref="MigrationStatus.Reason"/> says why and where the VM is.</summary>
    Failed,
}
