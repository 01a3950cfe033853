namespace Actors.HwBackend.Storage;

/// <summary>
/// Where a virtual disk's bytes live. The disk in front of it checks every guest request against
/// <see cref="Length"/> before it reaches the store, so a store may treat an access outside
/// [0, <see cref="Length"/>) as a bug and throw. Implementations must allow concurrent calls: a
/// disk may run several guest requests at once, and overlapping ones race as they would on a real
/// drive.
/// </summary>
public interface IBlockStore
{
    /// <summary>The granularity of <see cref="Length"/>: the disks in front of a store address it in 512-byte sectors.</summary>
    const int SectorBytes = 512;

    /// <summary>The disk's size in bytes, a non-zero multiple of <see cref="SectorBytes"/>; fixed for the store's lifetime.</summary>
    long Length { get; }

    void Read(long offset, Span<byte> into);

    /// <summary>Writes <paramref name="from"/>; the bytes may sit in a cache until <see cref="Flush"/>.</summary>
    void Write(long offset, ReadOnlySpan<byte> from);

    /// <summary>Returns once every write that completed before the call is on stable storage.</summary>
    void Flush();
}
