namespace Actors.Grains;

/// <summary>Every virtual disk by name, and the host that holds it (key 0). <c>hvctl disk</c> goes through it.</summary>
[Alias("Actors.IDiskCatalogGrain")]
public interface IDiskCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>The smallest disk, in bytes (1 MiB).</summary>
    public const long MinimumSizeBytes = 1L << 20;
    /// <summary>The largest disk, in bytes (2 TiB).</summary>
    public const long MaximumSizeBytes = 2L << 40;

    /// <summary>
    /// Makes a disk of <paramref name="sizeBytes"/> on <paramref name="host"/> (or the first host by
    /// name), or with <paramref name="baseImage"/> (an image store id) a copy-on-write disk of that
    /// image's size over it (give 0 as the size); a name in use is refused.
    /// </summary>
    [Alias("Create")]
    Task<DiskInfo> CreateAsync(string name, long sizeBytes, string? host, string? baseImage = null);

    /// <summary>The disk of that name, or null if there is none.</summary>
    [Alias("Get")]
    Task<DiskInfo?> GetAsync(string name);

    /// <summary>Every disk, in order of name.</summary>
    [Alias("List")]
    Task<IReadOnlyList<DiskInfo>> ListAsync();

    /// <summary>Deletes a disk and its bytes; refused while a running VM holds it.</summary>
    [Alias("Delete")]
    Task DeleteAsync(string name);
}
