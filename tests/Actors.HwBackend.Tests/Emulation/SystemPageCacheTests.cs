using Actors.HwBackend.Emulation;
using Xunit;

namespace Actors.HwBackend.Tests.Emulation;

public sealed unsafe class SystemPageCacheTests
{
    [Fact]
    public void KeepsFourPagesPerGenerationAndDropsTheOldestFirst()
    {
        var cache = new SystemPageCache();
        byte* host = stackalloc byte[1];
        Assert.True(cache.Find(0x1000, generation: 1) == null);

        for (ulong page = 1; page <= 4; page++)
            cache.Add(page << 12, host + page, generation: 1);
        for (ulong page = 1; page <= 4; page++)
            Assert.True(cache.Find(page << 12, generation: 1) == host + page);

        cache.Add(5 << 12, host + 5, generation: 1);
        Assert.True(cache.Find(1 << 12, generation: 1) == null);
        Assert.True(cache.Find(5 << 12, generation: 1) == host + 5);
        Assert.True(cache.Find(2 << 12, generation: 1) == host + 2);
    }

    [Fact]
    public void ATlbFlushForgetsEveryPage()
    {
        var cache = new SystemPageCache();
        byte* host = stackalloc byte[1];
        cache.Add(0x7000, host, generation: 3);
        Assert.True(cache.Find(0x7000, generation: 4) == null);

        cache.Add(0x8000, host, generation: 4);
        Assert.True(cache.Find(0x7000, generation: 4) == null);
        Assert.True(cache.Find(0x8000, generation: 4) == host);
        Assert.True(cache.Find(0x8000, generation: 3) == null);
    }
}
