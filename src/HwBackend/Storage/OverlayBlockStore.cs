namespace Actors.HwBackend.Storage;

/// <summary>
/// A copy-on-write disk: a base image that stays as it is, and an overlay file of the same size
/// that takes every write. A map (one bit a sector, in a file beside the overlay) says which sectors
/// the disk has written; a read takes those from the overlay and the rest from the base. Writes are
/// whole sectors, so none needs the base's bytes copied up first. <see cref="Flush"/> puts the
/// overlay's data on stable storage before the map that points at it, so that after a crash every
/// sector reads either as flushed or as it was before, never as half of each.
/// </summary>
public sealed class OverlayBlockStore : IBlockStore, IDisposable
{
    private const int Sector = IBlockStore.SectorBytes;

    private readonly IBlockStore _base;
    private readonly FileBlockStore _overlay;
    private readonly string _mapPath;
    private readonly ulong[] _written;
    private readonly Lock _lock = new();

    private OverlayBlockStore(IBlockStore baseImage, FileBlockStore overlay, string mapPath, ulong[] written)
    {
        (_base, _overlay, _mapPath, _written) = (baseImage, overlay, mapPath, written);
        Length = baseImage.Length;
    }

    public long Length { get; }

    /// <summary>The map's file beside an overlay.</summary>
    public static string MapPath(string overlayPath) => overlayPath + ".map";

    /// <summary>A new disk over <paramref name="baseImage"/> that reads as it does: an empty overlay (sparse) and an empty map. Fails if the overlay exists.</summary>
    public static OverlayBlockStore Create(string overlayPath, IBlockStore baseImage)
    {
        ArgumentNullException.ThrowIfNull(baseImage);
        FileBlockStore overlay = FileBlockStore.Create(overlayPath, baseImage.Length);
        var store = new OverlayBlockStore(baseImage, overlay, MapPath(overlayPath), new ulong[MapWords(baseImage.Length)]);
        store.Flush();
        return store;
    }

    /// <summary>Opens a disk made by <see cref="Create"/> over the same base.</summary>
    /// <exception cref="InvalidDataException">The overlay or its map does not fit the base.</exception>
    public static OverlayBlockStore Open(string overlayPath, IBlockStore baseImage)
    {
        ArgumentNullException.ThrowIfNull(baseImage);
        FileBlockStore overlay = FileBlockStore.Open(overlayPath);
        try
        {
            byte[] map = File.ReadAllBytes(MapPath(overlayPath));
            if (overlay.Length != baseImage.Length || map.Length != MapWords(baseImage.Length) * sizeof(ulong))
                throw new InvalidDataException($"{overlayPath} ({overlay.Length} bytes, a {map.Length}-byte map) does not fit its {baseImage.Length}-byte base image");
            ulong[] written = new ulong[MapWords(baseImage.Length)];
            Buffer.BlockCopy(map, 0, written, 0, map.Length);
            return new OverlayBlockStore(baseImage, overlay, MapPath(overlayPath), written);
        }
        catch
        {
            overlay.Dispose();
            throw;
        }
    }

    public void Read(long offset, Span<byte> into)
    {
        // Runs of sectors that come from the same side, each in one read.
        long sector = offset / Sector, end = (offset + into.Length) / Sector;
        int done = 0;
        while (sector < end)
        {
            bool written = IsWritten(sector);
            long run = sector + 1;
            while (run < end && IsWritten(run) == written)
                run++;
            int bytes = (int)((run - sector) * Sector);
            (written ? (IBlockStore)_overlay : _base).Read(sector * Sector, into.Slice(done, bytes));
            done += bytes;
            sector = run;
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> from)
    {
        _overlay.Write(offset, from);
        lock (_lock)
        {
            for (long sector = offset / Sector; sector < (offset + from.Length) / Sector; sector++)
                _written[sector >> 6] |= 1UL << (int)(sector & 63);
        }
    }

    /// <summary>
    /// The overlay's data first, then the map that points at it (written beside and renamed over the
    /// old one). The map is taken before the data goes to stable storage, so each sector it marks was
    /// written before that: a write racing the flush is in the next map, not in this one.
    /// </summary>
    public void Flush()
    {
        byte[] map = new byte[_written.Length * sizeof(ulong)];
        lock (_lock)
            Buffer.BlockCopy(_written, 0, map, 0, map.Length);
        _overlay.Flush();
        string next = _mapPath + ".new";
        using (var file = new FileStream(next, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(map);
            file.Flush(flushToDisk: true);
        }
        File.Move(next, _mapPath, overwrite: true);
    }

    public void Dispose() => _overlay.Dispose();

    private bool IsWritten(long sector) => (Volatile.Read(ref _written[sector >> 6]) & (1UL << (int)(sector & 63))) != 0;

    private static long MapWords(long length) => ((length / Sector) + 63) / 64;
}
