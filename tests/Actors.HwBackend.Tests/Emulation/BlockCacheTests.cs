using Actors.HwBackend.Emulation;
using Xunit;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// The decoded-block cache finds every block it holds, also two whose first bytes share an entry of
/// its direct-mapped table (a block evicted from the table was decoded again each time before,
/// which filled the op pool and had it dropped many times a second), and forgets what a code write
/// or a flush drops.
/// </summary>
public sealed unsafe class BlockCacheTests
{
    [Fact]
    public void Two_blocks_that_share_a_table_entry_are_both_found()
    {
        using var cache = new BlockCache();
        (Block first, Block second) = Colliding();
        cache.Insert(first);
        cache.Insert(second);

        for (int round = 0; round < 3; round++)
        {
            Assert.Same(first, cache.Lookup(first.Host, first.Rip, 64));
            Assert.Same(second, cache.Lookup(second.Host, second.Rip, 64));
        }
        Assert.Null(cache.Lookup(first.Host, first.Rip + 1, 64)); // the same bytes at another address are another block
        Assert.Null(cache.Lookup(first.Host, first.Rip, 32));
    }

    [Fact]
    public void A_written_code_page_or_a_flush_drops_its_blocks_from_both_levels()
    {
        using var cache = new BlockCache();
        (Block first, Block second) = Colliding();
        cache.Insert(first);
        cache.Insert(second);

        Assert.True(cache.InvalidatePage(first.RamPage0));
        Assert.False(first.Valid);
        Assert.Null(cache.Lookup(first.Host, first.Rip, 64));
        Assert.Same(second, cache.Lookup(second.Host, second.Rip, 64));

        cache.Clear();
        Assert.False(second.Valid);
        Assert.Null(cache.Lookup(second.Host, second.Rip, 64));
    }

    /// <summary>Two blocks on different pages whose host addresses the table puts in one entry (the cache only compares the pointers).</summary>
    private static (Block, Block) Colliding()
    {
        const ulong Base = 0x7F00_0000_0000;
        ulong other = Base + 0x1000;
        while (BlockCache.Hash((byte*)other) != BlockCache.Hash((byte*)Base))
            other += 0x1000;
        return (NewBlock(Base, 0xFFFF_FFFF_8100_0000), NewBlock(other, 0xFFFF_FFFF_8200_0000));
    }

    private static Block NewBlock(ulong host, ulong rip) => new() { Host = (byte*)host, Rip = rip, Bitness = 64, RamPage0 = host >> 12 };
}
