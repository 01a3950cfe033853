namespace Actors.Grains;

/// <summary>A VM as the catalog and <c>hvctl vm show</c> see it.</summary>
[GenerateSerializer]
[Alias("Actors.VmStatus")]
public sealed record VmStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] VmState State,
    [property: Id(2)] VmConfiguration Configuration,
    [property: Id(3)] string? Host,
    [property: Id(4)] string? FailureReason,
    [property: Id(5)] int? ExitStatus,
    [property: Id(6)] ulong InstructionsRetired,
    [property: Id(7)] long ConsoleBytes,
    [property: Id(8)] DateTimeOffset? StartedAt,
    [property: Id(9)] string? EndReason = null,
    [property: Id(10)] IReadOnlyList<string>? Unimplemented = null,
    [property: Id(11)] string? Heartbeat = null,
    [property: Id(12)] IReadOnlyList<string>? IntegrationServices = null);
