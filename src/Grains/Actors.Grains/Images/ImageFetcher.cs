namespace Actors.Grains.Images;

/// <summary>Reads a whole image from the store in chunks small enough for one Orleans message each.</summary>
public static class ImageFetcher
{
    public static async Task<byte[]> FetchAsync(IImageStoreGrain store, string imageId)
    {
        ImageInfo info = await store.GetInfoAsync();
        if (!info.Complete)
            throw new HypervisorException($"image '{imageId}' is not in the image store; upload it first");
        byte[] image = new byte[info.Length];
        for (long offset = 0; offset < info.Length; offset += IImageStoreGrain.ChunkSize)
        {
            int length = (int)Math.Min(IImageStoreGrain.ChunkSize, info.Length - offset);
            byte[] chunk = await store.ReadChunkAsync(offset, length);
            if (chunk.Length != length)
                throw new HypervisorException($"image '{imageId}' returned {chunk.Length} bytes at offset {offset}, expected {length}");
            chunk.CopyTo(image, offset);
        }

        return image;
    }
}
