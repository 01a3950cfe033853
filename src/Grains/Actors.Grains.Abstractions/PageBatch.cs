namespace Actors.Grains;

/// <summary>
/// Guest RAM pages on their way from a migration's source host to its target: pages with their
/// 4 KiB each in order, in 64 KiB segments, and all-zero pages as numbers only. At most 1 MiB
/// of data per batch. Segments, not one array: a receiver allocates each array it reads, and small
/// ones stay off the large object heap (see <c>GuestPageTransfer</c>).
/// </summary>
[GenerateSerializer]
[Alias("Actors.PageBatch")]
public sealed record PageBatch(
    [property: Id(0)] ulong[] Pages,
    [property: Id(1)] byte[][] Segments,
    [property: Id(2)] ulong[] ZeroPages);
