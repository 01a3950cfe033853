namespace Actors.HwBackend.Memory;

/// <summary>
/// Guest RAM pages in transit between two machines (a live migration pass): the pages in
/// <see cref="Pages"/> carry their 4 KiB each, in order, in <see cref="Data"/>; the pages in
/// <see cref="ZeroPages"/> are all zeros and carry nothing. Page numbers count RAM pages from
/// RAM offset 0, as <see cref="DirtyPageBitmap"/> does. Plain data, so any serializer can carry it.
/// </summary>
public sealed record GuestPageBatch(ulong[] Pages, byte[] Data, ulong[] ZeroPages)
{
    /// <summary>Bytes on the wire for the page contents (page numbers aside).</summary>
    public int DataBytes => Data.Length;

    public int PageCount => Pages.Length + ZeroPages.Length;
}
