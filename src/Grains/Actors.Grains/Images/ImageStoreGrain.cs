namespace Actors.Grains.Images;

/// <summary>
/// One content-addressed image. Chunks collect in memory and are persisted once, after the hash check, so
/// storage never holds a half-written or unverified image.
/// </summary>
public sealed class ImageStoreGrain(
    [PersistentState("image", "vmstate")] IPersistentState<ImageRecord> record) : Grain, IImageStoreGrain
{
    private ImageUpload? _upload;

    private string ImageId => this.GetPrimaryKeyString();

    private byte[]? Stored => record.State.Data;

    public Task<ImageInfo> GetInfoAsync() => Task.FromResult(Info());

    public Task BeginAsync(long length)
    {
        ImageUpload.EnsureValidId(ImageId);
        // Same id, same bytes: re-uploading a stored image must not take it away from VMs that boot from it.
        if (Stored is not null && Stored.LongLength == length)
            return Task.CompletedTask;
        _upload = new ImageUpload(ImageId, length);
        return Task.CompletedTask;
    }

    public Task WriteChunkAsync(long offset, byte[] data)
    {
        if (_upload is null)
        {
            if (Stored is not null)
                return Task.CompletedTask;
            throw new HypervisorException($"image '{ImageId}': no upload in progress; begin one first");
        }

        _upload.Write(ImageId, offset, data);
        return Task.CompletedTask;
    }

    public async Task<ImageInfo> CompleteAsync()
    {
        if (_upload is null)
        {
            return Stored is not null
                ? Info()
                : throw new HypervisorException($"image '{ImageId}': no upload in progress; begin one first");
        }

        byte[] verified;
        try
        {
            verified = _upload.Verify(ImageId);
        }
        finally
        {
            _upload = null;
        }

        record.State.Data = verified;
        await record.WriteStateAsync();
        return Info();
    }

    public Task<byte[]> ReadChunkAsync(long offset, int length)
    {
        byte[] data = Stored ?? throw new HypervisorException($"image '{ImageId}' is not in the image store; upload it first");
        if (length < 0 || length > IImageStoreGrain.ChunkSize)
            throw new HypervisorException($"image '{ImageId}': reads are limited to {IImageStoreGrain.ChunkSize} bytes, asked for {length}");
        if (offset < 0 || offset > data.LongLength - length)
            throw new HypervisorException($"image '{ImageId}': read at offset {offset} ({length} bytes) lies outside the {data.LongLength}-byte image");
        return Task.FromResult(data.AsSpan((int)offset, length).ToArray());
    }

    private ImageInfo Info() =>
        Stored is not null
            ? new ImageInfo(ImageId, Stored.LongLength, Complete: true)
            : new ImageInfo(ImageId, _upload?.Length ?? 0, Complete: false);
}
