using System.Buffers;
using System.Numerics;

namespace Actors.HwBackend.Memory;

/// <summary>
/// Cuts a set of guest RAM pages into <see cref="GuestPageBatch"/>es for the wire and writes them
/// into another machine's RAM. All-zero pages are sent as page numbers only (a fresh machine's RAM
/// is zero, and most of an idle guest's is). A batch carries at most <see cref="MaxBatchBytes"/>
/// of page data, so each fits one message.
/// <para>
/// The data travels in 64 KiB segments rather than one array: arrays of 85,000 bytes and more go
/// to the large object heap, and at hundreds of MiB/s those made both ends run a blocking gen-2
/// collection every few megabytes, each a pause of milliseconds, in the middle of a switch-over too.
/// Segments die young in gen 0.
/// </para>
/// <para>
/// Reading races with running vCPUs by design: the caller collects (and so re-arms) the dirty log
/// before reading, so a page written during the copy is dirty again and goes in the next pass.
/// </para>
/// </summary>
public static class GuestPageTransfer
{
    public const int MaxBatchBytes = 1 << 20;

    /// <summary>Pages per data segment: 64 KiB, below the large object heap's 85,000 bytes.</summary>
    public const int PagesPerSegment = 16;

    private const int PageSize = GuestRam.PageSize;
    private const int SegmentBytes = PagesPerSegment * PageSize;

    /// <summary>
    /// The pages whose bits are set in <paramref name="pages"/> (one bit per RAM page), in page
    /// order, as batches of at most <paramref name="maxBatchBytes"/> of data and as many zero pages.
    /// Full segments come from <paramref name="segmentPool"/> when one is given; hand them back with
    /// <see cref="ReturnSegments"/> once the batch has been sent.
    /// </summary>
    public static IEnumerable<GuestPageBatch> Read(GuestRam ram, ulong[] pages, int maxBatchBytes = MaxBatchBytes, ArrayPool<byte>? segmentPool = null)
    {
        ArgumentNullException.ThrowIfNull(ram);
        ArgumentNullException.ThrowIfNull(pages);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchBytes, PageSize);
        int pagesPerBatch = maxBatchBytes / PageSize;
        var data = new List<ulong>(pagesPerBatch);
        var zero = new List<ulong>(pagesPerBatch);
        foreach (ulong page in SetBits(pages, ram.PageCount))
        {
            if (IsZero(ram, page))
                zero.Add(page);
            else
                data.Add(page);
            if (data.Count == pagesPerBatch || zero.Count == pagesPerBatch)
            {
                yield return Build(ram, data, zero, segmentPool);
                data.Clear();
                zero.Clear();
            }
        }
        if (data.Count + zero.Count > 0)
            yield return Build(ram, data, zero, segmentPool);
    }

    /// <summary>Gives a sent batch's full segments back to the pool <see cref="Read"/> took them from.</summary>
    public static void ReturnSegments(GuestPageBatch batch, ArrayPool<byte> segmentPool)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(segmentPool);
        foreach (byte[] segment in batch.Segments)
        {
            if (segment.Length == SegmentBytes)
                segmentPool.Return(segment);
        }
    }

    /// <summary>Counts the pages set in <paramref name="pages"/> (within the RAM's page count).</summary>
    public static ulong Count(ulong[] pages, ulong pageCount)
    {
        ulong count = 0;
        for (int w = 0; w < pages.Length; w++)
        {
            ulong word = pages[w];
            ulong first = (ulong)w * 64;
            if (first >= pageCount)
                break;
            if (pageCount - first < 64)
                word &= (1UL << (int)(pageCount - first)) - 1;
            count += (ulong)BitOperations.PopCount(word);
        }
        return count;
    }

    /// <summary>
    /// Writes a batch into <paramref name="ram"/>. Only for a machine whose vCPUs are not running
    /// (a migration target before it starts): it bypasses code invalidation and dirty logging.
    /// </summary>
    /// <exception cref="ArgumentException">The batch names a page outside this RAM or its segments do not match its pages.</exception>
    public static void Write(GuestRam ram, GuestPageBatch batch)
    {
        ArgumentNullException.ThrowIfNull(ram);
        ArgumentNullException.ThrowIfNull(batch);
        // A batch off the wire may lack any of its arrays.
        ArgumentNullException.ThrowIfNull(batch.Pages);
        ArgumentNullException.ThrowIfNull(batch.ZeroPages);
        CheckSegments(batch);
        foreach (ulong page in batch.Pages)
            CheckPage(ram, page);
        foreach (ulong page in batch.ZeroPages)
            CheckPage(ram, page);
        for (int i = 0; i < batch.Pages.Length; i++)
        {
            byte[] segment = batch.Segments[i / PagesPerSegment];
            segment.AsSpan(i % PagesPerSegment * PageSize, PageSize).CopyTo(ram.Span(batch.Pages[i] * PageSize, PageSize));
        }
        foreach (ulong page in batch.ZeroPages)
            ram.Span(page * PageSize, PageSize).Clear();
    }

    private static void CheckSegments(GuestPageBatch batch)
    {
        int pages = batch.Pages.Length;
        int expected = (pages + PagesPerSegment - 1) / PagesPerSegment;
        if (batch.Segments is null || batch.Segments.Length != expected)
            throw new ArgumentException($"page batch has {pages} pages but {batch.Segments?.Length ?? 0} data segments (expected {expected})", nameof(batch));
        for (int s = 0; s < expected; s++)
        {
            int length = Math.Min(PagesPerSegment, pages - s * PagesPerSegment) * PageSize;
            if (batch.Segments[s] is not { } segment || segment.Length != length)
                throw new ArgumentException($"page batch segment {s} has {batch.Segments[s]?.Length ?? 0} bytes; its pages need {length}", nameof(batch));
        }
    }

    private static void CheckPage(GuestRam ram, ulong page)
    {
        if (page >= ram.PageCount)
            throw new ArgumentException($"page batch names page {page}, beyond this machine's {ram.PageCount} pages", nameof(ram));
    }

    private static GuestPageBatch Build(GuestRam ram, List<ulong> data, List<ulong> zero, ArrayPool<byte>? pool)
    {
        var segments = new byte[(data.Count + PagesPerSegment - 1) / PagesPerSegment][];
        for (int s = 0; s < segments.Length; s++)
        {
            // Only full segments are pooled: a pool may hand out longer arrays, and the length says how many pages a segment holds.
            int length = Math.Min(PagesPerSegment, data.Count - s * PagesPerSegment) * PageSize;
            segments[s] = pool is not null && length == SegmentBytes && pool.Rent(SegmentBytes) is { Length: SegmentBytes } rented
                ? rented
                : new byte[length];
        }
        for (int i = 0; i < data.Count; i++)
            ram.Span(data[i] * PageSize, PageSize).CopyTo(segments[i / PagesPerSegment].AsSpan(i % PagesPerSegment * PageSize, PageSize));
        return new GuestPageBatch([.. data], segments, [.. zero]);
    }

    private static bool IsZero(GuestRam ram, ulong page) => !ram.Span(page * PageSize, PageSize).ContainsAnyExcept((byte)0);

    private static IEnumerable<ulong> SetBits(ulong[] pages, ulong pageCount)
    {
        for (int w = 0; w < pages.Length; w++)
        {
            ulong word = pages[w];
            while (word != 0)
            {
                ulong page = (ulong)w * 64 + (ulong)BitOperations.TrailingZeroCount(word);
                if (page >= pageCount)
                    yield break;
                yield return page;
                word &= word - 1;
            }
        }
    }
}
