namespace Actors.Grains;

/// <summary>
/// Guest RAM pages on their way from a migration's source host to its target: pages with their
/// 4 KiB each in order, in 64 KiB segments, and all-zero pages as numbers only. At most 1 MiB
/// of data per batch. Segments, not one array: a receiver allocates each array it reads, and small
/// ones stay off the large object heap (see <c>GuestPageTransfer</c>).
/// </summary>
/// <param name="Pages">The guest-physical page numbers of the pages with data, in the order of their bytes.</param>
/// <param name="Segments">The pages' bytes, 4 KiB each, split into segments of at most 64 KiB.</param>
/// <param name="ZeroPages">The page numbers of pages that are all zeros.</param>
[GenerateSerializer]
[Alias("Actors.PageBatch")]
public sealed record PageBatch(
    [property: Id(0)] ulong[] Pages,
    [property: Id(1)] byte[][] Segments,
    [property: Id(2)] ulong[] ZeroPages);
