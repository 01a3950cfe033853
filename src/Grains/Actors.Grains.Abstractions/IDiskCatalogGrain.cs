namespace Actors.Grains;

/// <summary>Every virtual disk by name, and the host that holds it (key 0). <c>hvctl disk</c> goes through it.</summary>
[Alias("Actors.IDiskCatalogGrain")]
public interface IDiskCatalogGrain : IGrainWithIntegerKey
{
    public const long MinimumSizeBytes = 1L << 20;
    public const long MaximumSizeBytes = 2L << 40;

    /// <summary>Makes a disk of <paramref name="sizeBytes"/> on <paramref name="host"/> (or the first host by name); a name in use is refused.</summary>
    [Alias("Create")]
    Task<DiskInfo> CreateAsync(string name, long sizeBytes, string? host);

    [Alias("Get")]
    Task<DiskInfo?> GetAsync(string name);

    [Alias("List")]
    Task<IReadOnlyList<DiskInfo>> ListAsync();

    /// <summary>Deletes a disk and its bytes; refused while a running VM holds it.</summary>
    [Alias("Delete")]
    Task DeleteAsync(string name);
}
