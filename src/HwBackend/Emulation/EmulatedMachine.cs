using System.Collections.Concurrent;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation.Tiers;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// A partition's hardware on the software CPU: guest RAM and MMIO windows where the platform's layout
/// puts them, and one <see cref="Cpu"/> per vCPU. Keeps decoded code coherent with memory across
/// vCPUs and host writes.
/// </summary>
public sealed class EmulatedMachine : IVirtualMachine, IGuestMemoryObserver
{
    private readonly GuestRam _ram;
    private readonly EmulatedProcessor[] _processors;
    private readonly ConcurrentQueue<ulong>[] _pendingInvalidations;

    public EmulatedMachine(MachineConfiguration configuration, CpuTierOptions? tier = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        Tier = tier ?? CpuTierOptions.Interpreted;
        Translator = Tier.Tier == CpuTier.Translator ? new BlockTranslator(Tier) : null;
        if (configuration.ProcessorCount < 1)
            throw new ArgumentOutOfRangeException(nameof(configuration), "a machine needs at least one virtual processor");
        // Each Cpu consults an attached local APIC on its own thread; there is no other place an APIC could live.
        if (configuration.InterruptControllers != InterruptControllerMode.Userspace)
            throw new ArgumentException($"the software CPU runs only {InterruptControllerMode.Userspace} interrupt controllers, not {configuration.InterruptControllers}", nameof(configuration));
        Clock = configuration.Clock;
        _ram = new GuestRam(configuration.Memory.RamBytes);
        Memory = GuestPhysicalMap.For(_ram, configuration.Memory);
        Memory.Observer = this;
        CodePages = new CodePageMap(_ram.PageCount);

        _processors = new EmulatedProcessor[configuration.ProcessorCount];
        _pendingInvalidations = new ConcurrentQueue<ulong>[configuration.ProcessorCount];
        for (int i = 0; i < _processors.Length; i++)
        {
            _pendingInvalidations[i] = new ConcurrentQueue<ulong>();
            _processors[i] = new EmulatedProcessor(new Cpu(this, i));
        }
    }

    public GuestPhysicalMap Memory { get; }

    public IPlatformClock Clock { get; }

    public IReadOnlyList<IVirtualProcessor> Processors => _processors;

    public long TscHz => Cpu.TscHz;

    internal CodePageMap CodePages { get; }

    /// <summary>How this machine's vCPUs run guest code.</summary>
    public CpuTierOptions Tier { get; }

    /// <summary>The translating tier shared by the vCPUs, or null when they only interpret.</summary>
    internal BlockTranslator? Translator { get; }

    /// <summary>What the translating tier has done, or null when the machine only interprets.</summary>
    public TierStatistics? TierStatistics => Translator?.Statistics;

    /// <summary>Instructions the vCPUs retired in translated code (read while they run: a moment's count).</summary>
    public ulong InstructionsTranslated => _processors.Aggregate(0UL, (sum, p) => sum + p.Cpu.InstructionsTranslated);

    /// <summary>Serialises CMPXCHG16B, which has no 16-byte host atomic we can use portably.</summary>
    internal object WideAtomicLock { get; } = new();

    /// <summary>A vCPU decoded code from <paramref name="ramPage"/>: from now on every write to it must take the slow path.</summary>
    internal void MarkCode(Cpu builder, ulong ramPage)
    {
        if (!CodePages.Mark(ramPage)) return;
        builder.FlushWriteTlb();
        foreach (var p in _processors)
        {
            if (p.Cpu != builder) Interlocked.Or(ref p.Cpu.Events, Cpu.EventFlushWriteTlb);
        }
    }

    /// <summary>Code on <paramref name="ramPage"/> was written: every vCPU drops its blocks from that page.</summary>
    internal void InvalidateCode(ulong ramPage)
    {
        if (!CodePages.Clear(ramPage)) return;
        for (int i = 0; i < _processors.Length; i++)
        {
            _pendingInvalidations[i].Enqueue(ramPage);
            Interlocked.Or(ref _processors[i].Cpu.Events, Cpu.EventInvalidateCode);
        }
    }

    internal void DrainCodeInvalidations(Cpu cpu)
    {
        var queue = _pendingInvalidations[cpu.Index];
        while (queue.TryDequeue(out ulong page)) cpu.InvalidateCodePage(page);
    }

    public int DirtyPageWords => Memory.DirtyLog.WordCount;

    public ulong CountDirtyPages() => Memory.DirtyLog.CountDirty();

    public void CollectDirtyPages(Span<ulong> destination)
    {
        // The software TLB caches write permission only for pages already dirty, so fast-path writes
        // skip the log. After clearing the log every vCPU must drop those entries before we return;
        // a write through a stale entry meanwhile hits a page that is in this call's set anyway.
        Memory.DirtyLog.FetchAndClear(destination);
        foreach (var p in _processors) p.Cpu.FlushWriteTlbAndWait();
    }

    void IGuestMemoryObserver.OnHostWrite(ulong gpa, ulong length)
    {
        for (ulong a = gpa & ~0xFFFUL; a < gpa + length; a += 0x1000)
        {
            unsafe
            {
                byte* p = Memory.TryGetRamPointer(a);
                if (p != null) InvalidateCode((ulong)(p - _ram.HostPointer) >> 12);
            }
        }
    }

    public void Dispose()
    {
        Translator?.Evict(); // gives the host's translation cap back
        foreach (var p in _processors) p.Cpu.Dispose();
        _ram.Dispose();
    }
}
