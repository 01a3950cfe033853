using Actors.HwBackend.Worker;

namespace Actors.HwBackend.KvmConformance;

/// <summary>How a VM's run ended, for a check to wait on; with a moved VM, the end of whichever copy ran it last.</summary>
internal sealed class RunEnd : IDisposable
{
    private readonly ManualResetEventSlim _ended = new();

    public VmRunEnded? Last { get; private set; }

    /// <summary>The <see cref="VmWorker"/>'s end callback.</summary>
    public void OnEnded(VmRunEnded ended)
    {
        Last = ended;
        _ended.Set();
    }

    public bool Wait(TimeSpan timeout) => _ended.Wait(timeout);

    public void Dispose() => _ended.Dispose();
}
