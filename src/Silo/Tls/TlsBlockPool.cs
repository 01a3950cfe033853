using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Actors.Silo.Tls;

/// <summary>
/// The memory that Orleans' TLS middleware takes its buffers from on a connection, in blocks of
/// <see cref="BlockSize"/> bytes instead of the socket transport's 4 KiB. Orleans' TLS sizes both of its pipes by
/// the blocks of the connection's memory pool: it writes each block of outgoing data to its SslStream on its own,
/// and reads incoming data one block per read. With 4 KiB blocks a migration's megabyte page batches left as
/// 4 KiB TLS records, each encrypted and flushed to the socket separately, and arrived in 4 KiB reads, each waking
/// Orleans' message reader. With 64 KiB blocks SslStream writes 16 KiB records, the largest TLS has, and a read
/// takes whatever has arrived, up to 64 KiB.
/// </summary>
internal sealed class TlsBlockPool : MemoryPool<byte>, IMemoryPoolFeature
{
    private const int BlockSize = 64 * 1024;
    // Enough for the blocks in use by a few busy connections at once; more are returned to the garbage collector.
    private const int MaxFreeBlocks = 256;

    private readonly ConcurrentQueue<Block> _free = new();

    /// <summary>One pool for every connection of the process.</summary>
    public static TlsBlockPool Instance { get; } = new();

    /// <summary>Blocks are all <see cref="BlockSize"/>: the largest size a caller may ask for.</summary>
    public override int MaxBufferSize => BlockSize;

    MemoryPool<byte> IMemoryPoolFeature.MemoryPool => this;

    /// <summary>
    /// Adds the middleware that hands this pool to the middleware after it; it must come before TLS's.
    /// </summary>
    public static void Use(IConnectionBuilder connection) =>
        connection.Use(next => context =>
        {
            context.Features.Set<IMemoryPoolFeature>(Instance);
            return next(context);
        });

    /// <summary>A free block, or a new one.</summary>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (!_free.TryDequeue(out Block? block))
            block = new Block(this);
        block.Rented = true;
        return block;
    }

    /// <summary>Nothing to release: free blocks are ordinary arrays.</summary>
    protected override void Dispose(bool disposing)
    {
    }

    private void Return(Block block)
    {
        if (_free.Count < MaxFreeBlocks)
            _free.Enqueue(block);
    }

    private sealed class Block(TlsBlockPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = new byte[BlockSize];

        public bool Rented { get; set; }

        public Memory<byte> Memory => _array;

        public void Dispose()
        {
            // A pipe disposes each block once; a second dispose must not put the block in the queue twice.
            if (!Rented)
                return;
            Rented = false;
            pool.Return(this);
        }
    }
}
