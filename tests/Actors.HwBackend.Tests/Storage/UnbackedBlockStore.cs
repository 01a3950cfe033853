using Actors.HwBackend.Storage;

namespace Actors.HwBackend.Tests.Storage;

/// <summary>
/// A store with a size and no bytes: a disk too large to hold in memory, for the capacity
/// commands, or one whose every access fails as a dying disk's would.
/// </summary>
internal sealed class UnbackedBlockStore(long length) : IBlockStore
{
    public long Length => length;

    public void Read(long offset, Span<byte> into) => throw new IOException("read failed");

    public void Write(long offset, ReadOnlySpan<byte> from) => throw new IOException("write failed");

    public void Flush() => throw new IOException("flush failed");
}
