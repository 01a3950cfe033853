using Actors.HwBackend.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Memory;

public sealed class DirtyPageBitmapTests
{
    [Fact]
    public void MarkedPagesAreDirtyAndOthersAreNot()
    {
        var bitmap = new DirtyPageBitmap(130);

        bitmap.MarkDirty(0);
        bitmap.MarkDirty(64);
        bitmap.MarkDirty(129);
        bitmap.MarkDirty(64);

        Assert.True(bitmap.IsDirty(0));
        Assert.True(bitmap.IsDirty(64));
        Assert.True(bitmap.IsDirty(129));
        Assert.False(bitmap.IsDirty(1));
        Assert.Equal(3UL, bitmap.CountDirty());
        Assert.Equal(3, bitmap.WordCount);
    }

    [Fact]
    public void PagesPastTheEndAreIgnored()
    {
        var bitmap = new DirtyPageBitmap(10);

        bitmap.MarkDirty(10);
        bitmap.MarkDirty(ulong.MaxValue);
        bitmap.MarkRange(8, 100);

        Assert.False(bitmap.IsDirty(10));
        Assert.Equal(2UL, bitmap.CountDirty());
    }

    [Fact]
    public void MarkAllMarksExactlyEveryPage()
    {
        var bitmap = new DirtyPageBitmap(70);

        bitmap.MarkAll();

        Assert.Equal(70UL, bitmap.CountDirty());
        var words = new ulong[bitmap.WordCount];
        bitmap.FetchAndClear(words);
        Assert.Equal([ulong.MaxValue, 0x3FUL], words);
    }

    [Fact]
    public void FetchAndClearReturnsTheSetAndEmptiesIt()
    {
        var bitmap = new DirtyPageBitmap(128);
        bitmap.MarkRange(3, 2);
        bitmap.MarkDirty(127);
        var words = new ulong[2];

        bitmap.FetchAndClear(words);

        Assert.Equal([0b11000UL, 1UL << 63], words);
        Assert.Equal(0UL, bitmap.CountDirty());
        bitmap.FetchAndClear(words);
        Assert.Equal([0UL, 0UL], words);
    }

    [Fact]
    public void FetchIntoTooSmallABufferIsRefused()
    {
        var bitmap = new DirtyPageBitmap(65);

        Assert.Throws<ArgumentException>(() => bitmap.FetchAndClear(new ulong[1]));
    }

    [Fact]
    public void NoWriteIsLostWhileFetchesRaceWithMarks()
    {
        // Writers mark pages while a migration pass keeps fetching: every marked page must show up
        // in some fetch (or the final one), and nothing unmarked may appear.
        const ulong pages = 4096;
        const int writers = 4;
        const int marksPerWriter = 200_000;
        var bitmap = new DirtyPageBitmap(pages);
        var marked = new bool[writers][];
        var fetched = new ulong[bitmap.WordCount];
        var seen = new ulong[bitmap.WordCount];
        using var start = new Barrier(writers + 1);
        int running = writers;

        var threads = Enumerable.Range(0, writers).Select(w => new Thread(() =>
        {
            var random = new Random(w);
            var mine = marked[w] = new bool[pages];
            start.SignalAndWait();
            for (int i = 0; i < marksPerWriter; i++)
            {
                // Writer w owns pages p with p % writers == w, plus a shared hot page.
                ulong page = i % 16 == 0 ? 0 : (ulong)((random.Next((int)(pages / writers)) * writers) + w);
                mine[page] = true;
                bitmap.MarkDirty(page);
            }
            Interlocked.Decrement(ref running);
        })).ToList();
        threads.ForEach(t => t.Start());
        start.SignalAndWait();
        int passes = 0;
        while (Volatile.Read(ref running) > 0 || passes == 0)
        {
            bitmap.FetchAndClear(fetched);
            for (int i = 0; i < seen.Length; i++)
                seen[i] |= fetched[i];
            passes++;
        }
        threads.ForEach(t => t.Join());
        bitmap.FetchAndClear(fetched);
        for (int i = 0; i < seen.Length; i++)
            seen[i] |= fetched[i];

        for (ulong page = 0; page < pages; page++)
        {
            bool wasMarked = marked.Any(m => m[page]);
            bool wasSeen = (seen[page >> 6] & (1UL << (int)(page & 63))) != 0;
            Assert.True(wasMarked == wasSeen, $"page {page}: marked {wasMarked}, fetched {wasSeen}");
        }
    }
}
