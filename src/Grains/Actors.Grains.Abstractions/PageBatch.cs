namespace Actors.Grains;

/// <summary>
/// Guest RAM pages on their way from a migration's source host to its target: pages with their
/// 4 KiB each in order, and all-zero pages as numbers only. At most 1 MiB of data per batch.
/// </summary>
[GenerateSerializer]
[Alias("Actors.PageBatch")]
public sealed record PageBatch(
    [property: Id(0)] ulong[] Pages,
    [property: Id(1)] byte[] Data,
    [property: Id(2)] ulong[] ZeroPages);
