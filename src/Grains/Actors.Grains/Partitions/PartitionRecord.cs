namespace Actors.Grains.Partitions;

/// <summary>What a partition persists: its configuration and where it is in its lifecycle. Null configuration = no such VM.</summary>
[GenerateSerializer]
[Alias("Actors.PartitionRecord")]
public sealed class PartitionRecord
{
    [Id(0)] public VmConfiguration? Configuration { get; set; }
    [Id(1)] public VmState State { get; set; }
    [Id(2)] public string? Host { get; set; }
    [Id(3)] public string? FailureReason { get; set; }
    [Id(4)] public int? ExitStatus { get; set; }
    [Id(5)] public ulong InstructionsRetired { get; set; }
    [Id(6)] public long ConsoleBytes { get; set; }
    [Id(7)] public DateTimeOffset? StartedAt { get; set; }

    /// <summary>The live migration under way, if any.</summary>
    [Id(8)] public string? MigrationId { get; set; }

    /// <summary>How the guest's last run ended by itself (debug-exit, acpi-poweroff, reset: ..., triple fault), or null.</summary>
    [Id(9)] public string? EndReason { get; set; }

    /// <summary>What the guest of the current or last run used that is not implemented (see <see cref="VmCounters"/>).</summary>
    [Id(10)] public IReadOnlyList<string>? Unimplemented { get; set; }

    /// <summary>The heartbeat integration service's state when last asked (a VM that sees Hyper-V), or null.</summary>
    [Id(11)] public string? Heartbeat { get; set; }

    /// <summary>Every integration service's state when last asked, one line each, or null.</summary>
    [Id(12)] public IReadOnlyList<string>? IntegrationServices { get; set; }

    /// <summary>The user asked the guest to restart: when its run ends in a reset, start it again.</summary>
    [Id(13)] public bool RestartRequested { get; set; }

    /// <summary>How the software CPU ran it when last asked, in one line, or null.</summary>
    [Id(14)] public string? CpuTier { get; set; }

    public VmStatus ToStatus(string name) =>
        new(name, State, Configuration!, Host, FailureReason, ExitStatus, InstructionsRetired, ConsoleBytes, StartedAt, EndReason, Unimplemented, Heartbeat, IntegrationServices, CpuTier);
}
