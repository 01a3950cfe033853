namespace Actors.HwBackend.Storage;

/// <summary>
/// A disk in an array, for tests. Unlike a file it throws on any access outside its length, so a
/// disk that let a guest request through unchecked fails loudly instead of growing the image.
/// </summary>
public sealed class MemoryBlockStore : IBlockStore
{
    private readonly byte[] _bytes;
    private int _flushes;

    public MemoryBlockStore(int lengthBytes)
    {
        if (lengthBytes <= 0 || lengthBytes % IBlockStore.SectorBytes != 0)
            throw new ArgumentOutOfRangeException(nameof(lengthBytes), $"a disk is a non-zero whole number of {IBlockStore.SectorBytes}-byte sectors, not {lengthBytes} bytes");
        _bytes = new byte[lengthBytes];
    }

    public long Length => _bytes.Length;

    /// <summary>The disk's contents, for a test to look at or set up directly.</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>How many times <see cref="Flush"/> was called: what a test of FUA or SYNCHRONIZE CACHE looks at.</summary>
    public int Flushes => Volatile.Read(ref _flushes);

    public void Read(long offset, Span<byte> into) => _bytes.AsSpan(Start(offset, into.Length), into.Length).CopyTo(into);

    public void Write(long offset, ReadOnlySpan<byte> from) => from.CopyTo(_bytes.AsSpan(Start(offset, from.Length), from.Length));

    public void Flush() => Interlocked.Increment(ref _flushes);

    private int Start(long offset, int count)
    {
        if (offset < 0 || offset > _bytes.Length - count)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{count} bytes at {offset} are outside the {_bytes.Length}-byte disk");
        return (int)offset;
    }
}
