using Actors.Grains;

namespace Actors.Hvctl.Output;

/// <summary>A disk as <c>disk list -o json</c> prints each; <see cref="BaseImage"/> is the full content id of the image it is a copy-on-write layer over.</summary>
internal sealed record DiskView(string Name, string Host, long SizeBytes, DateTime CreatedAt, string? BaseImage)
{
    public static DiskView From(DiskInfo disk) => new(disk.Name, disk.Host, disk.SizeBytes, disk.CreatedAt.UtcDateTime, disk.BaseImage);
}
