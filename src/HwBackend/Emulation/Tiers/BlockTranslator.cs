using System.Diagnostics;
using System.Runtime.CompilerServices;

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

    /// <summary>Blocks in one region at most: a loop nest's worth.</summary>
    public const int MaxRegionBlocks = 8;

    /// <summary>The translation entered at <paramref name="block"/> if it has one; else counts the run and may have one made.</summary>
    // Inlined into the run loop, which asks before every block: the usual answer, a current translation, costs no call.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Translation? TranslationFor(Cpu cpu, Block block)
    {
        Translation? translation = Volatile.Read(ref block.Translation);
        if (translation != null && block.TranslationGeneration == Volatile.Read(ref _generation))
            return translation;
        return CountRun(cpu, block);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Translation? CountRun(Cpu cpu, Block block)
    {
        Translation? translation = Volatile.Read(ref block.Translation);
        if (translation != null)
        {
            if (block.TranslationGeneration == Volatile.Read(ref _generation))
                return translation;
            // Dropped at the cap: interpret it again until it is hot again.
            block.Translation = null;
            block.Heat = 0;
            block.Queued = false;
        }

        if (block.Queued)
            return null;
        if (block.CoveredBy is { } covering)
        {
            // A region being made includes this block: in a loop every block heats up at the same pace, and
            // the loop's head's region will run them all. Once it is made the block heats up again from zero,
            // so it gets a region of its own only if the run loop still enters it: an entry of its own.
            if (!covering.Done)
                return null;
            block.CoveredBy = null;
            block.Heat = 0;
        }

        if (++block.Heat < _options.Threshold)
            return null;
        block.Queued = true;
        Block[] region = cpu.RegionFrom(block, MaxRegionBlocks);
        // Copies, so the translation thread never reads the op pool, which the vCPU may reuse meanwhile.
        Op[][] snapshots = region.Select(b => new ReadOnlySpan<Op>(b.Ops, b.Count + 1).ToArray()).ToArray();
        var request = new TranslationRequest(this, region, snapshots, cpu.SegBase[Cpu.CS], Volatile.Read(ref _generation));
        for (int i = 1; i < region.Length; i++)
        {
            if (region[i].Translation == null && !region[i].Queued)
                region[i].CoveredBy = request;
        }

        if (_options.OnVcpuThread)
        {
            Translate(request);
            return block.Translation;
        }

        if (!TranslationThread.Instance.TryQueue(request))
        {
            block.Queued = false; // the queue is full: ask again when it next becomes hot
            request.Finish();
        }

        return null;
    }

    /// <summary>Compiles a request's region and publishes the code on its head, unless the head or its generation went meanwhile.</summary>
    public void Translate(TranslationRequest request)
    {
        try
        {
            TranslateRegion(request);
        }
        finally
        {
            request.Finish();
        }
    }

    private void TranslateRegion(TranslationRequest request)
    {
        Block head = request.Region[0];
        if (!head.Valid || request.Generation != Volatile.Read(ref _generation))
            return;
        long start = Stopwatch.GetTimestamp();
        var translation = new Translation(request.Region);
        try
        {
            translation.Code = BlockCompiler.Compile(translation, request.Ops, request.CodeSegmentBase);
        }
        catch (Exception e) when (e is InvalidProgramException or NotSupportedException or ArgumentException)
        {
            // Never expected; the block stays interpreted rather than the vCPU failing.
            Interlocked.Increment(ref _failed);
            return;
        }

        Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _live);
        bool hostHasRoom = TranslationThread.Instance.AddRegion();
        if (!hostHasRoom || Interlocked.Read(ref _live) > _options.MaxRegions)
            Evict();
        head.TranslationGeneration = request.Generation;
        Volatile.Write(ref head.Translation, translation);
        Interlocked.Increment(ref _translated);
    }

    /// <summary>Drops every translated block of the machine: the cap is reached, or the host's is.</summary>
    public void Evict()
    {
        long dropped = Interlocked.Exchange(ref _live, 0);
        Interlocked.Increment(ref _generation);
        Interlocked.Add(ref _evicted, dropped);
        TranslationThread.Instance.RemoveRegions(dropped);
    }

    public TierStatistics Statistics => new(
        Interlocked.Read(ref _translated),
        Interlocked.Read(ref _evicted),
        Interlocked.Read(ref _failed),
        Interlocked.Read(ref _live),
        TimeSpan.FromTicks((long)(Interlocked.Read(ref _ticks) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency))));
}

/// <summary>A region to translate (head first), with copies of its blocks' ops taken on its vCPU's thread.</summary>
internal sealed class TranslationRequest(BlockTranslator owner, Block[] region, Op[][] ops, ulong codeSegmentBase, long generation)
{
    private volatile bool _done;

    public BlockTranslator Owner { get; } = owner;
    public Block[] Region { get; } = region;
    public Op[][] Ops { get; private set; } = ops;
    public ulong CodeSegmentBase { get; } = codeSegmentBase;
    public long Generation { get; } = generation;

    /// <summary>Whether the request is finished with: translated, found stale, failed or never queued.</summary>
    public bool Done => _done;

    /// <summary>
    /// Marks the request finished and lets go of its copies of the ops, which the blocks it covers would
    /// otherwise keep alive until the run loop next reaches them.
    /// </summary>
    public void Finish()
    {
        Ops = [];
        _done = true;
    }
}
