namespace Actors.HwBackend.Memory;

/// <summary>
/// One bit per 4 KiB guest page, set when the page is written. Live migration takes the set
/// with <see cref="FetchAndClear"/>, which swaps each word atomically so a write racing with the
/// fetch is either in this pass's copy or in the next pass's bitmap, never in neither.
/// </summary>
public sealed class DirtyPageBitmap
{
    private readonly ulong[] _words;

    public DirtyPageBitmap(ulong pageCount)
    {
        PageCount = pageCount;
        _words = new ulong[(pageCount + 63) / 64];
    }

    public ulong PageCount { get; }

    public int WordCount => _words.Length;

    public void MarkDirty(ulong pageNumber)
    {
        if (pageNumber >= PageCount) return;
        ref ulong word = ref _words[pageNumber >> 6];
        ulong bit = 1UL << (int)(pageNumber & 63);
        if ((Volatile.Read(ref word) & bit) == 0)
            Interlocked.Or(ref word, bit);
    }

    public void MarkRange(ulong firstPage, ulong pageCount)
    {
        for (ulong p = firstPage; p < firstPage + pageCount && p < PageCount; p++)
            MarkDirty(p);
    }

    public void MarkAll()
    {
        for (ulong p = 0; p < PageCount; p++)
            MarkDirty(p);
    }

    public bool IsDirty(ulong pageNumber) =>
        pageNumber < PageCount && (Volatile.Read(ref _words[pageNumber >> 6]) & (1UL << (int)(pageNumber & 63))) != 0;

    /// <summary>Copies the bitmap into <paramref name="destination"/> and clears it, word by word atomically.</summary>
    public void FetchAndClear(Span<ulong> destination)
    {
        if (destination.Length < _words.Length)
            throw new ArgumentException($"destination needs {_words.Length} words", nameof(destination));
        for (int i = 0; i < _words.Length; i++)
            destination[i] = Interlocked.Exchange(ref _words[i], 0);
    }

    public ulong CountDirty()
    {
        ulong n = 0;
        for (int i = 0; i < _words.Length; i++)
            n += (ulong)System.Numerics.BitOperations.PopCount(Volatile.Read(ref _words[i]));
        return n;
    }
}
