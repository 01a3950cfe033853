using System.Security.Cryptography;

namespace Actors.Grains.Images;

/// <summary>
/// An image being uploaded: a buffer of the announced length that chunks fill in any order. Completion
/// hashes the whole buffer, so a missing or corrupt chunk shows up as a hash mismatch.
/// </summary>
public sealed class ImageUpload
{
    private readonly byte[] _data;

    public ImageUpload(string imageId, long length)
    {
        if (length <= 0 || length > IImageStoreGrain.MaximumImageBytes)
            throw new HypervisorException(
                $"image '{imageId}': size must be between 1 byte and {IImageStoreGrain.MaximumImageBytes >> 20} MiB, got {length} bytes");
        _data = new byte[length];
    }

    public long Length => _data.LongLength;

    public void Write(string imageId, long offset, byte[] chunk)
    {
        if (chunk.Length > IImageStoreGrain.ChunkSize)
            throw new HypervisorException($"image '{imageId}': chunk of {chunk.Length} bytes exceeds the {IImageStoreGrain.ChunkSize}-byte limit");
        if (offset < 0 || offset > _data.LongLength - chunk.Length)
            throw new HypervisorException($"image '{imageId}': chunk at offset {offset} ({chunk.Length} bytes) lies outside the {_data.LongLength}-byte image");
        chunk.CopyTo(_data, offset);
    }

    /// <summary>The bytes, if they hash to the image id; otherwise a refusal naming both hashes.</summary>
    public byte[] Verify(string imageId)
    {
        string actual = Hash(_data);
        if (!string.Equals(actual, imageId, StringComparison.Ordinal))
            throw new HypervisorException($"image '{imageId}': the uploaded bytes hash to {actual}; upload the whole image again");
        return _data;
    }

    public static string Hash(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static void EnsureValidId(string imageId)
    {
        if (imageId.Length != 64 || !imageId.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            throw new HypervisorException($"'{imageId}' is not an image id (expected the lower-case hex SHA-256 of the image)");
    }
}
