using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Tests.Runner;

/// <summary>A machine around one <see cref="ScriptedProcessor"/>.</summary>
internal sealed class ScriptedMachine : IVirtualMachine
{
    private readonly GuestRam _ram = new(GuestRam.PageSize);

    public ScriptedMachine(Func<ScriptedProcessor, VpExit> script)
    {
        Processor = new ScriptedProcessor(script);
        Memory = new GuestPhysicalMap(_ram);
    }

    public ScriptedProcessor Processor { get; }

    public GuestPhysicalMap Memory { get; }

    public IReadOnlyList<IVirtualProcessor> Processors => [Processor];

    public long TscHz => 1_000_000_000;

    /// <summary>A script that plays <paramref name="exits"/> in order, then halts.</summary>
    public static ScriptedMachine Playing(params VpExit[] exits)
    {
        int next = 0;
        return new ScriptedMachine(_ => next < exits.Length ? exits[next++] : new VpExit(VpExitReason.Halt));
    }

    public int DirtyPageWords => Memory.DirtyLog.WordCount;

    public ulong CountDirtyPages() => Memory.DirtyLog.CountDirty();

    public void CollectDirtyPages(Span<ulong> destination) => Memory.DirtyLog.FetchAndClear(destination);

    public void Dispose() => _ram.Dispose();
}
