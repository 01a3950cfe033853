using System.Buffers;
using Actors.HwBackend.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Memory;

public sealed class GuestPageTransferTests
{
    private const int Page = GuestRam.PageSize;

    [Fact]
    public void Every_selected_page_arrives_and_zero_pages_travel_without_data()
    {
        using var source = new GuestRam(64UL * Page);
        using var target = new GuestRam(64UL * Page);
        target.Span(0, 64 * Page).Fill(0xEE); // stale contents the transfer must overwrite, zeros included
        for (ulong p = 0; p < 64; p += 3)
            source.Span(p * Page + 100, 8).Fill((byte)(p + 1));
        ulong[] all = [ulong.MaxValue];

        var batches = GuestPageTransfer.Read(source, all).ToList();
        foreach (var batch in batches)
            GuestPageTransfer.Write(target, batch);

        Assert.True(source.Span(0, 64 * Page).SequenceEqual(target.Span(0, 64 * Page)));
        Assert.Equal(22, batches.Sum(b => b.Pages.Length));
        Assert.Equal(42, batches.Sum(b => b.ZeroPages.Length));
        Assert.Equal(22 * Page, batches.Sum(b => b.DataBytes));
    }

    [Fact]
    public void Only_the_pages_in_the_set_are_sent_and_batches_respect_the_size_limit()
    {
        using var ram = new GuestRam(256UL * Page);
        ram.Span(0, 256 * Page).Fill(1);
        var set = new ulong[4];
        for (int p = 10; p < 200; p += 2)
            set[p / 64] |= 1UL << (p % 64);

        var batches = GuestPageTransfer.Read(ram, set, maxBatchBytes: 16 * Page).ToList();

        var sent = batches.SelectMany(b => b.Pages).ToList();
        Assert.Equal(Enumerable.Range(0, 95).Select(i => (ulong)(10 + 2 * i)), sent);
        Assert.All(batches, b => Assert.True(b.DataBytes <= 16 * Page));
        Assert.Equal(95UL, GuestPageTransfer.Count(set, 256));
        // No array the large object heap would take (85,000 bytes and up).
        Assert.All(GuestPageTransfer.Read(ram, set).SelectMany(b => b.Segments), s => Assert.True(s.Length < 85_000));
    }

    [Fact]
    public void Pooled_segments_carry_the_same_pages_and_are_reused_once_returned()
    {
        using var source = new GuestRam(40UL * Page);
        using var target = new GuestRam(40UL * Page);
        for (ulong p = 0; p < 40; p++)
            source.Span(p * Page, Page).Fill((byte)(p + 1));
        var pool = ArrayPool<byte>.Create(GuestPageTransfer.PagesPerSegment * Page, 8);
        ulong[] all = [ulong.MaxValue];

        var batch = Assert.Single(GuestPageTransfer.Read(source, all, segmentPool: pool));
        GuestPageTransfer.Write(target, batch);
        Assert.True(source.Span(0, 40 * Page).SequenceEqual(target.Span(0, 40 * Page)));
        // 40 pages: two full segments from the pool and an 8-page tail of its own length.
        Assert.Equal([16 * Page, 16 * Page, 8 * Page], batch.Segments.Select(s => s.Length));

        GuestPageTransfer.ReturnSegments(batch, pool);
        var again = Assert.Single(GuestPageTransfer.Read(source, all, segmentPool: pool));
        Assert.Equal(2, again.Segments.Count(s => batch.Segments.Contains(s)));
        Assert.True(again.Segments[..2].SelectMany(s => s).SequenceEqual(source.Span(0, 32 * Page).ToArray()));
    }

    [Fact]
    public void Bits_beyond_the_last_page_are_ignored()
    {
        using var ram = new GuestRam(10UL * Page);
        var batches = GuestPageTransfer.Read(ram, [ulong.MaxValue]).ToList();

        Assert.Equal(10, batches.Sum(b => b.PageCount));
        Assert.Equal(10UL, GuestPageTransfer.Count([ulong.MaxValue], 10));
    }

    [Fact]
    public void A_batch_naming_a_page_outside_the_ram_or_with_the_wrong_data_length_is_refused_untouched()
    {
        using var ram = new GuestRam(8UL * Page);
        ram.Span(0, 8 * Page).Fill(7);

        Assert.Throws<ArgumentException>(() => GuestPageTransfer.Write(ram, new GuestPageBatch([1, 8], [new byte[2 * Page]], [])));
        Assert.Throws<ArgumentException>(() => GuestPageTransfer.Write(ram, new GuestPageBatch([], [], [2, 99])));
        Assert.Throws<ArgumentException>(() => GuestPageTransfer.Write(ram, new GuestPageBatch([1], [new byte[Page - 1]], [])));
        Assert.Throws<ArgumentException>(() => GuestPageTransfer.Write(ram, new GuestPageBatch([1], [], [])));
        Assert.Throws<ArgumentException>(() => GuestPageTransfer.Write(ram, new GuestPageBatch([1], [null!], [])));
        Assert.Throws<ArgumentException>(() => GuestPageTransfer.Write(ram, new GuestPageBatch([1], [new byte[Page], new byte[Page]], [])));
        Assert.All(ram.Span(0, 8 * Page).ToArray(), b => Assert.Equal(7, b));
    }
}
