using System.Runtime.InteropServices;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Decoded blocks of one vCPU: a direct-mapped table keyed by host address of the first byte, in
/// front of a map that holds every block, a per-RAM-page list for invalidation when code is
/// written, and a chunked native pool for ops. When the pool is full everything is dropped at once
/// (between blocks, never mid-block).
/// </summary>
internal sealed unsafe class BlockCache : IDisposable
{
    private const int TableBits = 16;
    private const int ChunkOps = 4096;
    private const int MaxChunks = 64;

    private readonly Block?[] _table = new Block?[1 << TableBits];

    // Every block in the pool by its first byte's host address. Blocks that share a table entry are
    // found here instead of being decoded again each time the other evicted them: without it, Linux
    // moving data over the network decoded 500 000 blocks a second, and filled and dropped the whole
    // pool 13 times a second, with 7 000 distinct blocks running.
    private readonly Dictionary<nint, Block> _byHost = new();
    private readonly Dictionary<ulong, List<Block>> _byPage = new();
    private readonly List<nint> _chunks = new();
    private int _chunk = -1;
    private int _used = ChunkOps;

    public ulong Flushes;

    internal static int Hash(byte* host) => (int)(((ulong)host ^ ((ulong)host >> TableBits)) & ((1 << TableBits) - 1));

    public Block? Lookup(byte* host, ulong rip, int bitness)
    {
        var b = _table[Hash(host)];
        return b != null && b.Host == host && b.Rip == rip && b.Bitness == bitness ? b : LookupMissed(host, rip, bitness);
    }

    /// <summary>The table's entry holds another block (or none): the map may still have this one, which then takes the entry.</summary>
    private Block? LookupMissed(byte* host, ulong rip, int bitness)
    {
        if (!_byHost.TryGetValue((nint)host, out var b) || b.Rip != rip || b.Bitness != bitness)
            return null;
        _table[Hash(host)] = b;
        return b;
    }

    /// <summary>Space for <paramref name="count"/> ops, or null when the pool is exhausted and must be flushed first.</summary>
    public Op* Allocate(int count)
    {
        if (_used + count > ChunkOps)
        {
            if (_chunk + 1 >= MaxChunks) return null;
            _chunk++;
            if (_chunk == _chunks.Count)
                _chunks.Add((nint)NativeMemory.AlignedAlloc((nuint)(ChunkOps * sizeof(Op)), 64));
            _used = 0;
        }
        Op* p = (Op*)_chunks[_chunk] + _used;
        _used += count;
        return p;
    }

    /// <summary>
    /// Keeps only the first <paramref name="count"/> ops of the latest allocation, which starts at <paramref name="ops"/>:
    /// a block is decoded into room for the longest one, and most are a few instructions long. Without this
    /// every block took the longest one's room, and a booting Linux filled the pool (and had it flushed) 180 times.
    /// </summary>
    public void Shrink(Op* ops, int count)
    {
        Op* chunk = (Op*)_chunks[_chunk];
        if (ops >= chunk && ops + count <= chunk + _used)
            _used = (int)(ops - chunk) + count;
    }

    public void Insert(Block b)
    {
        _table[Hash(b.Host)] = b;
        _byHost[(nint)b.Host] = b;
        AddToPage(b.RamPage0, b);
        if (b.RamPage1 != b.RamPage0) AddToPage(b.RamPage1, b);
    }

    private void AddToPage(ulong page, Block b)
    {
        if (page == ulong.MaxValue) return;
        if (!_byPage.TryGetValue(page, out var list)) _byPage[page] = list = new List<Block>();
        list.Add(b);
    }

    /// <summary>Drops every block that has bytes on RAM page <paramref name="page"/>.</summary>
    public bool InvalidatePage(ulong page)
    {
        if (!_byPage.Remove(page, out var list)) return false;
        foreach (var b in list)
        {
            b.Valid = false;
            int h = Hash(b.Host);
            if (ReferenceEquals(_table[h], b)) _table[h] = null;
            if (_byHost.TryGetValue((nint)b.Host, out var current) && ReferenceEquals(current, b)) _byHost.Remove((nint)b.Host);
        }
        return true;
    }

    public void Clear()
    {
        Array.Clear(_table);
        foreach (var list in _byPage.Values)
        {
            foreach (var b in list) b.Valid = false;
        }
        _byPage.Clear();
        _byHost.Clear();
        _chunk = -1;
        _used = ChunkOps;
        Flushes++;
    }

    public void Dispose()
    {
        foreach (var c in _chunks) NativeMemory.AlignedFree((void*)c);
        _chunks.Clear();
    }
}
