using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>
/// The host's translation thread: compiles hot regions for every machine in the process, off the vCPU
/// threads, in the order they became hot. The queue is bounded; a block that finds it full stays
/// interpreted and asks again later. Also keeps the host's count of translated regions, so that all
/// machines together stay under <see cref="MaxHostRegions"/>. On Linux the thread runs at nice 10: compiling is
/// background work, and where it contends for a core with a vCPU or the silo's own threads they go first (on
/// two cores a live migration's switch-over, which the compiling for a busy guest had doubled, needs them).
/// </summary>
internal sealed partial class TranslationThread
{
    public const int MaxHostRegions = 524_288;
    private const int QueueCapacity = 4096;

    private static readonly Lazy<TranslationThread> s_instance = new(() => new TranslationThread());

    private readonly BlockingCollection<TranslationRequest> _queue = new(new ConcurrentQueue<TranslationRequest>(), QueueCapacity);
    private long _hostRegions;

    private TranslationThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "cpu translator" };
        thread.Start();
    }

    public static TranslationThread Instance => s_instance.Value;

    public bool TryQueue(TranslationRequest request) => _queue.TryAdd(request);

    /// <summary>Counts one more translated region; true while the host is within its cap.</summary>
    public bool AddRegion() => Interlocked.Increment(ref _hostRegions) <= MaxHostRegions;

    public void RemoveRegions(long count) => Interlocked.Add(ref _hostRegions, -count);

    private void Run()
    {
        // PRIO_PROCESS with a thread id sets that thread's nice value alone; failing, it stays at the process's.
        if (OperatingSystem.IsLinux())
            _ = SetPriority(0, GetThreadId(), 10);
        foreach (TranslationRequest request in _queue.GetConsumingEnumerable())
            request.Owner.Translate(request);
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
