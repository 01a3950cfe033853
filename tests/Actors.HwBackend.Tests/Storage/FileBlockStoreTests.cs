using System.Diagnostics;
using Actors.HwBackend.Storage;
using Xunit;

namespace Actors.HwBackend.Tests.Storage;

public sealed class FileBlockStoreTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("actors-storage-");

    public void Dispose() => _directory.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_directory.FullName, name);

    [Fact]
    public void ACreatedImageHasItsSizeAndReadsAsZeros()
    {
        string path = PathOf("disk.img");
        using (var store = FileBlockStore.Create(path, (10 << 20) + 512))
        {
            Assert.Equal((10 << 20) + 512, store.Length);
            var block = new byte[4096];
            Array.Fill(block, (byte)0xA5);
            store.Read(store.Length - 4096, block);
            Assert.All(block, b => Assert.Equal(0, b));
        }
        Assert.Equal((10 << 20) + 512, new FileInfo(path).Length);
    }

    /// <summary>An 8 GiB image costs nothing until written, and offsets past 4 GiB work.</summary>
    [Fact]
    public void ALargeImageIsSparse()
    {
        const long size = 8L << 30;
        using var store = FileBlockStore.Create(PathOf("large.img"), size);
        byte[] written = [.. Enumerable.Range(0, 512).Select(i => (byte)i)];
        store.Write(5L << 30, written);
        var read = new byte[512];
        store.Read(5L << 30, read);
        Assert.Equal(written, read);
        store.Read(size - 512, read);
        Assert.All(read, b => Assert.Equal(0, b));
        if (OperatingSystem.IsLinux())
            Assert.True(AllocatedBytes(PathOf("large.img")) < 1 << 20, "the image is not sparse");
    }

    [Fact]
    public void WhatWasWrittenAndFlushedIsThereWhenTheImageIsOpenedAgain()
    {
        string path = PathOf("disk.img");
        var written = new byte[3 * 512];
        new Random(7).NextBytes(written);
        using (var store = FileBlockStore.Create(path, 1 << 20))
        {
            store.Write(512 * 100, written);
            store.Flush();
        }
        using var reopened = FileBlockStore.Open(path);
        Assert.Equal(1 << 20, reopened.Length);
        var read = new byte[written.Length];
        reopened.Read(512 * 100, read);
        Assert.Equal(written, read);
    }

    [Fact]
    public void AnImageIsOpenedByOneStoreAtATime()
    {
        string path = PathOf("disk.img");
        using var store = FileBlockStore.Create(path, 1 << 20);
        Assert.Throws<IOException>(() => FileBlockStore.Open(path));
    }

    [Fact]
    public void CreateRefusesAnExistingFileAndPartSectors()
    {
        string path = PathOf("disk.img");
        File.WriteAllBytes(path, new byte[512]);
        Assert.Throws<IOException>(() => FileBlockStore.Create(path, 1 << 20));
        Assert.Equal(512, new FileInfo(path).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => FileBlockStore.Create(PathOf("odd.img"), 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => FileBlockStore.Create(PathOf("empty.img"), 0));
        Assert.False(File.Exists(PathOf("odd.img")));
    }

    [Fact]
    public void OpenRefusesAFileOfPartSectors()
    {
        string path = PathOf("odd.img");
        File.WriteAllBytes(path, new byte[1000]);
        Assert.Throws<InvalidDataException>(() => FileBlockStore.Open(path));
        File.WriteAllBytes(path, []);
        Assert.Throws<InvalidDataException>(() => FileBlockStore.Open(path));
    }

    [Fact]
    public void AccessOutsideTheImageThrows()
    {
        using var store = FileBlockStore.Create(PathOf("disk.img"), 4096);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Read(4096 - 511, new byte[512]));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Write(-512, new byte[512]));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Write(4096, new byte[1]));
        Assert.Equal(4096, new FileInfo(PathOf("disk.img")).Length);
    }

    [Fact]
    public void AnImageShortenedBehindTheStoresBackReadsAsZerosPastItsEnd()
    {
        if (!OperatingSystem.IsLinux())
            return;
        string path = PathOf("disk.img");
        using var store = FileBlockStore.Create(path, 4096);
        var ones = new byte[4096];
        Array.Fill(ones, (byte)1);
        store.Write(0, ones);
        Run("truncate", "-s", "1000", path);
        var read = new byte[1024];
        Array.Fill(read, (byte)0xA5);
        store.Read(512, read);
        Assert.All(read[..488], b => Assert.Equal(1, b));
        Assert.All(read[488..], b => Assert.Equal(0, b));
    }

    /// <summary>The space the file takes on disk, as opposed to its length.</summary>
    private static long AllocatedBytes(string path)
    {
        string[] blocksAndSize = Run("stat", "-c", "%b %B", path).Split(' ');
        return long.Parse(blocksAndSize[0]) * long.Parse(blocksAndSize[1]);
    }

    private static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }
}
