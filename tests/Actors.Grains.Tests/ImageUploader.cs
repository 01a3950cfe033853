using System.Security.Cryptography;

namespace Actors.Grains.Tests;

/// <summary>Uploads an image the way a client does: begin, chunks, complete.</summary>
public static class ImageUploader
{
    public static string IdOf(byte[] image) => Convert.ToHexStringLower(SHA256.HashData(image));

    public static async Task<string> UploadAsync(IGrainFactory grains, byte[] image)
    {
        string id = IdOf(image);
        IImageStoreGrain store = grains.GetGrain<IImageStoreGrain>(id);
        await store.BeginAsync(image.Length);
        for (int offset = 0; offset < image.Length; offset += IImageStoreGrain.ChunkSize)
            await store.WriteChunkAsync(offset, image.AsSpan(offset, Math.Min(IImageStoreGrain.ChunkSize, image.Length - offset)).ToArray());
        await store.CompleteAsync();
        return id;
    }
}
