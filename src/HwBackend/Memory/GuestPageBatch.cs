namespace Actors.HwBackend.Memory;

/// <summary>
/// Guest RAM pages in transit between two machines (a live migration pass): the pages in
/// <see cref="Pages"/> carry their 4 KiB each, in order, in <see cref="Segments"/>, which hold
/// <see cref="GuestPageTransfer.PagesPerSegment"/> pages each (the last may hold fewer); the pages
/// in <see cref="ZeroPages"/> are all zeros and carry nothing. Page numbers count RAM pages from
/// RAM offset 0, as <see cref="DirtyPageBitmap"/> does. Plain data, so any serializer can carry it.
/// </summary>
public sealed record GuestPageBatch(ulong[] Pages, byte[][] Segments, ulong[] ZeroPages)
{
    public static GuestPageBatch Empty { get; } = new([], [], []);

    /// <summary>Bytes on the wire for the page contents (page numbers aside).</summary>
    public int DataBytes => Pages.Length * GuestRam.PageSize;

    public int PageCount => Pages.Length + ZeroPages.Length;
}
