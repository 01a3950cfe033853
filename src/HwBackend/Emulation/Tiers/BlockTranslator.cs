using System.Diagnostics;

namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>
/// The translating tier of one machine: counts how often each block runs, has hot ones compiled (on
/// the host's <see cref="TranslationThread"/>, or on the vCPU thread when asked), hands the compiled
/// code to the vCPU that runs the block, and keeps the machine under its cap. Blocks stay owned by their
/// vCPU's thread; the translation thread only compiles from a copy and publishes the result on the block.
/// </summary>
internal sealed unsafe class BlockTranslator
{
    private readonly CpuTierOptions _options;

    // Bumped to drop every translated block of the machine at once (the cap); a block's code counts
    // only while its generation is current.
    private long _generation = 1;
    private long _live;

    private long _translated, _evicted, _failed, _ticks;

    public BlockTranslator(CpuTierOptions options)
    {
        _options = options;
    }

    public CpuTierOptions Options => _options;

    /// <summary>Translated code for <paramref name="block"/> if it has some; else counts the run and may have it translated.</summary>
    public CompiledBlock? CodeFor(Cpu cpu, Block block)
    {
        CompiledBlock? code = Volatile.Read(ref block.Compiled);
        if (code != null)
        {
            if (block.CompiledGeneration == Volatile.Read(ref _generation))
                return code;
            // Dropped at the cap: interpret it again until it is hot again.
            block.Compiled = null;
            block.Heat = 0;
            block.Queued = false;
        }

        if (block.Queued || ++block.Heat < _options.Threshold)
            return null;
        block.Queued = true;
        var request = new TranslationRequest(this, block, new ReadOnlySpan<Op>(block.Ops, block.Count + 1).ToArray(), Volatile.Read(ref _generation));
        if (_options.OnVcpuThread)
        {
            Translate(request);
            return block.Compiled;
        }

        if (!TranslationThread.Instance.TryQueue(request))
            block.Queued = false; // the queue is full: ask again when it next becomes hot
        return null;
    }

    /// <summary>Compiles a request's block and publishes the code, unless the block or its generation went meanwhile.</summary>
    public void Translate(TranslationRequest request)
    {
        Block block = request.Block;
        if (!block.Valid || request.Generation != Volatile.Read(ref _generation))
            return;
        long start = Stopwatch.GetTimestamp();
        CompiledBlock code;
        try
        {
            code = BlockCompiler.Compile(block.Ops, request.Ops, block.Rip);
        }
        catch (Exception e) when (e is InvalidProgramException or NotSupportedException or ArgumentException)
        {
            // Never expected; the block stays interpreted rather than the vCPU failing.
            Interlocked.Increment(ref _failed);
            return;
        }

        Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _live);
        bool hostHasRoom = TranslationThread.Instance.AddBlock();
        if (!hostHasRoom || Interlocked.Read(ref _live) > _options.MaxBlocks)
            Evict();
        block.CompiledGeneration = request.Generation;
        Volatile.Write(ref block.Compiled, code);
        Interlocked.Increment(ref _translated);
    }

    /// <summary>Drops every translated block of the machine: the cap is reached, or the host's is.</summary>
    public void Evict()
    {
        long dropped = Interlocked.Exchange(ref _live, 0);
        Interlocked.Increment(ref _generation);
        Interlocked.Add(ref _evicted, dropped);
        TranslationThread.Instance.RemoveBlocks(dropped);
    }

    public TierStatistics Statistics => new(
        Interlocked.Read(ref _translated),
        Interlocked.Read(ref _evicted),
        Interlocked.Read(ref _failed),
        Interlocked.Read(ref _live),
        TimeSpan.FromTicks((long)(Interlocked.Read(ref _ticks) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency))));
}

/// <summary>A block to translate, with a copy of its ops taken on its vCPU's thread.</summary>
internal sealed record TranslationRequest(BlockTranslator Owner, Block Block, Op[] Ops, long Generation);
