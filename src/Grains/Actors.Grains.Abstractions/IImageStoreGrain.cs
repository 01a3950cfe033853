namespace Actors.Grains;

/// <summary>
/// One guest image, keyed by its content id (lower-case hex SHA-256 of the bytes). Uploaded and read
/// in chunks of at most <see cref="ChunkSize"/> bytes, well under Orleans' message cap, so any silo can
/// fetch an image a client uploaded through any gateway. Completion checks the hash against the key.
/// </summary>
[Alias("Actors.IImageStoreGrain")]
public interface IImageStoreGrain : IGrainWithStringKey
{
    /// <summary>The most bytes one chunk carries, in writes and reads (256 KiB).</summary>
    public const int ChunkSize = 256 * 1024;
    /// <summary>The largest image the store takes, in bytes (512 MiB).</summary>
    public const long MaximumImageBytes = 512L << 20;

    /// <summary>The image's length and whether it is complete; an image never uploaded is empty and incomplete.</summary>
    [Alias("GetInfo")]
    Task<ImageInfo> GetInfoAsync();

    /// <summary>Starts (or restarts) an upload of <paramref name="length"/> bytes.</summary>
    [Alias("Begin")]
    Task BeginAsync(long length);

    /// <summary>Stores <paramref name="data"/> (at most <see cref="ChunkSize"/> bytes) at byte <paramref name="offset"/> of the upload
    /// <see cref="BeginAsync"/> started; refused outside the announced length or without an upload begun.</summary>
    [Alias("WriteChunk")]
    Task WriteChunkAsync(long offset, byte[] data);

    /// <summary>Verifies the SHA-256 of what arrived against the key; refuses with a clear message if it differs.</summary>
    [Alias("Complete")]
    Task<ImageInfo> CompleteAsync();

    /// <summary>Up to <paramref name="length"/> bytes (at most <see cref="ChunkSize"/>) from byte <paramref name="offset"/> of a complete image;
    /// refused while the image is not stored, or outside it.</summary>
    [Alias("ReadChunk")]
    Task<byte[]> ReadChunkAsync(long offset, int length);
}
