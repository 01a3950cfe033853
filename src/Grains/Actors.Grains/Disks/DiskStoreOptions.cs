namespace Actors.Grains.Disks;

/// <summary>
/// Where this host keeps its virtual disks: one image file per disk under
/// <see cref="Directory"/>/HOST. By default <c>$ACTORS_DISK_DIR</c>, else
/// <c>~/.local/share/actors/disks</c>: a place that outlives the silo, as a disk must.
/// </summary>
public sealed class DiskStoreOptions
{
    public string Directory { get; set; } = Environment.GetEnvironmentVariable("ACTORS_DISK_DIR") is { Length: > 0 } configured
        ? configured
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "actors", "disks");
}
