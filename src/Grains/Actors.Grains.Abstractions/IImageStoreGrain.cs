namespace Actors.Grains;

/// <summary>
/// One guest image, keyed by its content id (lower-case hex SHA-256 of the bytes). Uploaded and read
/// in chunks of at most <see cref="ChunkSize"/> bytes, well under Orleans' message cap, so any silo can
/// fetch an image a client uploaded through any gateway. Completion checks the hash against the key.
/// </summary>
[Alias("Actors.IImageStoreGrain")]
public interface IImageStoreGrain : IGrainWithStringKey
{
    public const int ChunkSize = 256 * 1024;
    public const long MaximumImageBytes = 512L << 20;

    [Alias("GetInfo")]
    Task<ImageInfo> GetInfoAsync();

    /// <summary>Starts (or restarts) an upload of <paramref name="length"/> bytes.</summary>
    [Alias("Begin")]
    Task BeginAsync(long length);

    [Alias("WriteChunk")]
    Task WriteChunkAsync(long offset, byte[] data);

    /// <summary>Verifies the SHA-256 of what arrived against the key; refuses with a clear message if it differs.</summary>
    [Alias("Complete")]
    Task<ImageInfo> CompleteAsync();

    [Alias("ReadChunk")]
    Task<byte[]> ReadChunkAsync(long offset, int length);
}
