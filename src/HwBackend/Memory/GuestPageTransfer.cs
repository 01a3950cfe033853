using System.Numerics;

namespace Actors.HwBackend.Memory;

/// <summary>
/// Cuts a set of guest RAM pages into <see cref="GuestPageBatch"/>es for the wire and writes them
/// into another machine's RAM. All-zero pages are sent as page numbers only (a fresh machine's RAM
/// is zero, and most of an idle guest's is). A batch carries at most <see cref="MaxBatchBytes"/>
/// of page data, so each fits one message.
/// <para>
/// Reading races with running vCPUs by design: the caller collects (and so re-arms) the dirty log
/// before reading, so a page written during the copy is dirty again and goes in the next pass.
/// </para>
/// </summary>
public static class GuestPageTransfer
{
    public const int MaxBatchBytes = 1 << 20;

    private const int PageSize = GuestRam.PageSize;

    /// <summary>
    /// The pages whose bits are set in <paramref name="pages"/> (one bit per RAM page), in page
    /// order, as batches of at most <paramref name="maxBatchBytes"/> of data and as many zero pages.
    /// </summary>
    public static IEnumerable<GuestPageBatch> Read(GuestRam ram, ulong[] pages, int maxBatchBytes = MaxBatchBytes)
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
                yield return Build(ram, data, zero);
                data.Clear();
                zero.Clear();
            }
        }
        if (data.Count + zero.Count > 0)
            yield return Build(ram, data, zero);
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
    /// <exception cref="ArgumentException">The batch names a page outside this RAM or its data length does not match.</exception>
    public static void Write(GuestRam ram, GuestPageBatch batch)
    {
        ArgumentNullException.ThrowIfNull(ram);
        ArgumentNullException.ThrowIfNull(batch);
        if ((long)batch.Pages.Length * PageSize != batch.Data.Length)
            throw new ArgumentException($"page batch has {batch.Pages.Length} pages but {batch.Data.Length} bytes of data", nameof(batch));
        foreach (ulong page in batch.Pages)
            CheckPage(ram, page);
        foreach (ulong page in batch.ZeroPages)
            CheckPage(ram, page);
        for (int i = 0; i < batch.Pages.Length; i++)
            batch.Data.AsSpan(i * PageSize, PageSize).CopyTo(ram.Span(batch.Pages[i] * PageSize, PageSize));
        foreach (ulong page in batch.ZeroPages)
            ram.Span(page * PageSize, PageSize).Clear();
    }

    private static void CheckPage(GuestRam ram, ulong page)
    {
        if (page >= ram.PageCount)
            throw new ArgumentException($"page batch names page {page}, beyond this machine's {ram.PageCount} pages", nameof(ram));
    }

    private static GuestPageBatch Build(GuestRam ram, List<ulong> data, List<ulong> zero)
    {
        var bytes = new byte[data.Count * PageSize];
        for (int i = 0; i < data.Count; i++)
            ram.Span(data[i] * PageSize, PageSize).CopyTo(bytes.AsSpan(i * PageSize, PageSize));
        return new GuestPageBatch([.. data], bytes, [.. zero]);
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
