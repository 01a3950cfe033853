using Actors.HwBackend.Storage;
using Xunit;

namespace Actors.HwBackend.Tests.Storage;

public sealed class OverlayBlockStoreTests : IDisposable
{
    private const int Size = 1 << 20;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("actors-overlay-");
    private readonly byte[] _pattern = new byte[Size];

    public OverlayBlockStoreTests()
    {
        new Random(7).NextBytes(_pattern);
        using var image = FileBlockStore.Create(BasePath, Size);
        image.Write(0, _pattern);
        image.Flush();
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private string BasePath => Path.Combine(_directory.FullName, "base.img");

    private string OverlayPath => Path.Combine(_directory.FullName, "disk.img");

    [Fact]
    public void ANewDiskReadsAsItsBaseAndItsWritesNeverReachTheBase()
    {
        using var baseImage = FileBlockStore.OpenReadOnly(BasePath);
        using var disk = OverlayBlockStore.Create(OverlayPath, baseImage);
        Assert.Equal(Size, disk.Length);
        Assert.Equal(_pattern, ReadAll(disk));

        // Sectors 3-4 and 9, then a read across written and unwritten runs.
        byte[] written = [.. Enumerable.Repeat((byte)0xEE, 1024)];
        disk.Write(3 * 512, written);
        disk.Write(9 * 512, written.AsSpan(0, 512));
        byte[] expected = (byte[])_pattern.Clone();
        written.CopyTo(expected, 3 * 512);
        written.AsSpan(0, 512).CopyTo(expected.AsSpan(9 * 512));
        byte[] head = new byte[16 * 512];
        disk.Read(0, head);
        Assert.Equal(expected.AsSpan(0, head.Length).ToArray(), head);
        Assert.Equal(expected, ReadAll(disk));
        Assert.Equal(_pattern, File.ReadAllBytes(BasePath));
        // A second disk over the same base does not see the first's writes.
        using var other = OverlayBlockStore.Create(Path.Combine(_directory.FullName, "other.img"), baseImage);
        Assert.Equal(_pattern, ReadAll(other));
    }

    [Fact]
    public void FlushedWritesAreThereWhenTheDiskIsOpenedAgain()
    {
        byte[] expected = (byte[])_pattern.Clone();
        using (var baseImage = FileBlockStore.OpenReadOnly(BasePath))
        using (var disk = OverlayBlockStore.Create(OverlayPath, baseImage))
        {
            byte[] sector = [.. Enumerable.Repeat((byte)0x5A, 512)];
            disk.Write(Size - 512, sector);
            sector.CopyTo(expected, Size - 512);
            disk.Flush();
        }
        using (var baseImage = FileBlockStore.OpenReadOnly(BasePath))
        using (var disk = OverlayBlockStore.Open(OverlayPath, baseImage))
            Assert.Equal(expected, ReadAll(disk));
    }

    [Fact]
    public void AWriteNotFlushedReadsAsTheBaseAfterACrashNeverAsZeros()
    {
        using (var baseImage = FileBlockStore.OpenReadOnly(BasePath))
        {
            // The map on stable storage is the one of the last flush: a crash before the next loses
            // the writes since, and those sectors read as the base did, not as the overlay's holes.
            var disk = OverlayBlockStore.Create(OverlayPath, baseImage);
            disk.Write(0, new byte[4096]);
            disk.Dispose();
        }
        using (var baseImage = FileBlockStore.OpenReadOnly(BasePath))
        using (var disk = OverlayBlockStore.Open(OverlayPath, baseImage))
            Assert.Equal(_pattern, ReadAll(disk));
    }

    [Fact]
    public void AnOverlayThatDoesNotFitItsBaseIsRefused()
    {
        using var baseImage = FileBlockStore.OpenReadOnly(BasePath);
        using (OverlayBlockStore.Create(OverlayPath, baseImage))
        {
        }
        File.WriteAllBytes(OverlayBlockStore.MapPath(OverlayPath), new byte[3]);
        Assert.Throws<InvalidDataException>(() => OverlayBlockStore.Open(OverlayPath, baseImage));
        Assert.Throws<UnauthorizedAccessException>(() => baseImage.Write(0, new byte[512]));
    }

    private static byte[] ReadAll(IBlockStore store)
    {
        byte[] all = new byte[store.Length];
        store.Read(0, all);
        return all;
    }
}
