using System.Collections.Concurrent;
using Actors.HwBackend.Network;
using Actors.HwBackend.VmBus.Network;

namespace Actors.HwBackend.Tests.Network;

/// <summary>
/// Two network adapters joined by a cable, as two machines' NICs plugged into each other: what one
/// guest sends, the other receives. Each end copies its guest's frames into a queue on the vCPU
/// thread, and a thread of its own gives them to the other adapter, so neither adapter's lock is
/// ever held while the other's is taken.
/// </summary>
internal sealed class CrossoverCable : IDisposable
{
    private readonly End[] _ends;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread[] _pumps;

    public CrossoverCable()
    {
        _ends = [new End(), new End()];
        _pumps = [new Thread(() => Pump(_ends[0], _ends[1])), new Thread(() => Pump(_ends[1], _ends[0]))];
    }

    public INetworkUplink this[int end] => _ends[end];

    /// <summary>Plugs the cable into the two adapters (their machines are made with <see cref="this[int]"/> as their uplinks) and starts carrying frames.</summary>
    public void Connect(NetworkVsp first, NetworkVsp second)
    {
        (_ends[0].Adapter, _ends[1].Adapter) = (first, second);
        foreach (Thread pump in _pumps)
        {
            pump.IsBackground = true;
            pump.Start();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (End end in _ends)
            end.Frames.Add([]);
        foreach (Thread pump in _pumps)
        {
            if (pump.IsAlive)
                pump.Join();
        }
        _stop.Dispose();
    }

    private void Pump(End from, End to)
    {
        while (!_stop.IsCancellationRequested)
        {
            byte[] frame = from.Frames.Take();
            if (frame.Length > 0)
                to.Adapter?.Deliver(frame, [frame.Length]);
        }
    }

    private sealed class End : INetworkUplink
    {
        public BlockingCollection<byte[]> Frames { get; } = new(4096);

        public NetworkVsp? Adapter { get; set; }

        public void Transmit(ReadOnlySpan<byte> frame) => Frames.TryAdd(frame.ToArray());
    }
}
