using Microsoft.Win32.SafeHandles;

namespace Actors.HwBackend.Storage;

/// <summary>
/// A disk image in a file, read and written at offsets with <see cref="RandomAccess"/>, so that
/// concurrent requests need no lock and share no file position. Writes land in the OS page cache;
/// <see cref="Flush"/> is an fsync. The file is opened exclusively (an advisory lock on Unix), so
/// two VMs cannot write one image by mistake. Reading beyond the end of the file (one shortened
/// behind our back) gives zeros, as the holes of a sparse file do.
/// </summary>
public sealed class FileBlockStore : IBlockStore, IDisposable
{
    private readonly SafeFileHandle _handle;

    private FileBlockStore(SafeFileHandle handle, long length)
    {
        _handle = handle;
        Length = length;
    }

    public long Length { get; }

    /// <summary>
    /// Creates a new image of <paramref name="lengthBytes"/> that reads as zeros, sparse where the
    /// filesystem allows, so an empty disk takes no space until the guest writes. Fails if the file
    /// exists, rather than wipe a disk.
    /// </summary>
    public static FileBlockStore Create(string path, long lengthBytes)
    {
        CheckLength(lengthBytes, nameof(lengthBytes));
        SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        try
        {
            RandomAccess.SetLength(handle, lengthBytes);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return new FileBlockStore(handle, lengthBytes);
    }

    /// <summary>Opens an existing image; its size must be a whole number of sectors.</summary>
    public static FileBlockStore Open(string path) => Open(path, FileAccess.ReadWrite, FileShare.None);

    /// <summary>Opens an existing image to read only, beside other readers: a base image under copy-on-write disks. Writing it throws.</summary>
    public static FileBlockStore OpenReadOnly(string path) => Open(path, FileAccess.Read, FileShare.Read);

    private static FileBlockStore Open(string path, FileAccess access, FileShare share)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, access, share);
        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length <= 0 || length % IBlockStore.SectorBytes != 0)
                throw new InvalidDataException($"{path} is {length} bytes, not a whole number of {IBlockStore.SectorBytes}-byte sectors");
            return new FileBlockStore(handle, length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Read(long offset, Span<byte> into)
    {
        CheckRange(offset, into.Length);
        int done = 0;
        while (done < into.Length)
        {
            int read = RandomAccess.Read(_handle, into[done..], offset + done);
            if (read == 0)
            {
                into[done..].Clear();
                return;
            }
            done += read;
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> from)
    {
        CheckRange(offset, from.Length);
        RandomAccess.Write(_handle, from, offset);
    }

    public void Flush() => RandomAccess.FlushToDisk(_handle);

    public void Dispose() => _handle.Dispose();

    private void CheckRange(long offset, int count)
    {
        if (offset < 0 || offset > Length - count)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{count} bytes at {offset} are outside the {Length}-byte disk");
    }

    private static void CheckLength(long length, string name)
    {
        if (length <= 0 || length % IBlockStore.SectorBytes != 0)
            throw new ArgumentOutOfRangeException(name, $"a disk is a non-zero whole number of {IBlockStore.SectorBytes}-byte sectors, not {length} bytes");
    }
}
