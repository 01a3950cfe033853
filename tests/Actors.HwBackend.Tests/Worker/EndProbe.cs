using Actors.HwBackend.Worker;

namespace Actors.HwBackend.Tests.Worker;

/// <summary>Records <c>onEnded</c> calls so tests can wait for the end and check it came once.</summary>
internal sealed class EndProbe
{
    private readonly ManualResetEventSlim _ended = new();
    private int _calls;
    private VmRunEnded? _last;

    public int Calls => Volatile.Read(ref _calls);

    public void OnEnded(VmRunEnded ended)
    {
        Volatile.Write(ref _last, ended);
        Interlocked.Increment(ref _calls);
        _ended.Set();
    }

    public VmRunEnded Wait(TimeSpan timeout)
    {
        if (!_ended.Wait(timeout))
            throw new TimeoutException($"the guest did not end within {timeout}");
        return Volatile.Read(ref _last)!;
    }
}
