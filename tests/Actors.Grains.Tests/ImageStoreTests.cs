using Xunit;

namespace Actors.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ImageStoreTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Upload_in_chunks_out_of_order_round_trips()
    {
        byte[] image = new byte[IImageStoreGrain.ChunkSize * 2 + 1234];
        new Random(42).NextBytes(image);
        string id = ImageUploader.IdOf(image);
        IImageStoreGrain store = fixture.Client.GetGrain<IImageStoreGrain>(id);

        await store.BeginAsync(image.Length);
        foreach (int offset in new[] { 2 * IImageStoreGrain.ChunkSize, 0, IImageStoreGrain.ChunkSize })
            await store.WriteChunkAsync(offset, image.AsSpan(offset, Math.Min(IImageStoreGrain.ChunkSize, image.Length - offset)).ToArray());
        Assert.False((await store.GetInfoAsync()).Complete);
        ImageInfo info = await store.CompleteAsync();

        Assert.Equal(new ImageInfo(id, image.Length, true), info);
        byte[] tail = await store.ReadChunkAsync(2 * IImageStoreGrain.ChunkSize, 1234);
        Assert.Equal(image.AsSpan(2 * IImageStoreGrain.ChunkSize).ToArray(), tail);
    }

    [Fact]
    public async Task Complete_refuses_bytes_that_do_not_hash_to_the_id()
    {
        byte[] image = Guests.Image("hello");
        IImageStoreGrain store = fixture.Client.GetGrain<IImageStoreGrain>(new string('a', 64));

        await store.BeginAsync(image.Length);
        await store.WriteChunkAsync(0, image);
        var e = await Assert.ThrowsAsync<HypervisorException>(store.CompleteAsync);

        Assert.Contains($"hash to {ImageUploader.IdOf(image)}", e.Message);
        Assert.False((await store.GetInfoAsync()).Complete);
    }

    [Fact]
    public async Task Oversized_chunks_out_of_range_offsets_and_oversized_images_are_refused()
    {
        IImageStoreGrain store = fixture.Client.GetGrain<IImageStoreGrain>(new string('b', 64));

        var tooBig = await Assert.ThrowsAsync<HypervisorException>(() => store.BeginAsync(IImageStoreGrain.MaximumImageBytes + 1));
        Assert.Contains("size must be between", tooBig.Message);

        await store.BeginAsync(1000);
        var bigChunk = await Assert.ThrowsAsync<HypervisorException>(() => store.WriteChunkAsync(0, new byte[IImageStoreGrain.ChunkSize + 1]));
        Assert.Contains("exceeds", bigChunk.Message);
        var beyond = await Assert.ThrowsAsync<HypervisorException>(() => store.WriteChunkAsync(900, new byte[101]));
        Assert.Contains("outside", beyond.Message);
        var negative = await Assert.ThrowsAsync<HypervisorException>(() => store.WriteChunkAsync(-1, new byte[1]));
        Assert.Contains("outside", negative.Message);
    }

    [Fact]
    public async Task Ids_that_are_not_sha256_are_refused_and_missing_images_cannot_be_read()
    {
        var badId = await Assert.ThrowsAsync<HypervisorException>(() => fixture.Client.GetGrain<IImageStoreGrain>("hello").BeginAsync(10));
        Assert.Contains("is not an image id", badId.Message);

        var missing = await Assert.ThrowsAsync<HypervisorException>(() => fixture.Client.GetGrain<IImageStoreGrain>(new string('c', 64)).ReadChunkAsync(0, 10));
        Assert.Contains("upload it first", missing.Message);
    }
}
