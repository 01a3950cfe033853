using System.Threading.Channels;
using Actors.HwBackend.VmBus;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.VmBus;

/// <summary>
/// Carries a relayed channel's events from the VM's worker to the grain that serves the channel,
/// and its answers back into the ring. The vCPU side only wakes the pump; the pump, on the worker
/// grain's scheduler, takes whatever has piled up and delivers it in one call, one call at a time,
/// so the VSP sees the guest's packets in order. A delivery that fails (the VSP's silo is gone, say)
/// is tried again a second later as a fresh open, under a new epoch, which a VSP negotiates on as
/// after a migration, rather than losing the channel for good.
/// </summary>
internal sealed class VmBusRelayPump(string vmName, ILogger logger)
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Channel<bool> _wakes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private VmBusRelay? _relay;
    private volatile bool _completed;

    /// <summary>Called on the vCPU thread that saw the guest act, or the worker's; never waits.</summary>
    public void Wake() => _wakes.Writer.TryWrite(true);

    /// <summary>The relay this pump drains; set once, right after the worker made it (it needs <see cref="Wake"/> first).</summary>
    public VmBusRelay Relay
    {
        get => _relay ?? throw new InvalidOperationException("no relay attached");
        set => _relay = value;
    }

    /// <summary>No more deliveries: the pump ends after the one in flight, if any.</summary>
    public void Complete()
    {
        _completed = true;
        _wakes.Writer.TryComplete();
    }

    /// <summary>Delivers until <see cref="Complete"/>. Run it on the worker grain's scheduler.</summary>
    public async Task RunAsync(Func<IReadOnlyList<VmBusChannelEvent>, Task<VmBusPackets>> deliver)
    {
        var events = new List<VmBusRelayEvent>();
        ChannelReader<bool> wakes = _wakes.Reader;
        while (await wakes.WaitToReadAsync())
        {
            wakes.TryRead(out _);
            while (Relay.TakeEvents(events))
            {
                VmBusChannelEvent[] carried = VmBusRelayWire.ToWire(events);
                events.Clear();
                try
                {
                    VmBusPackets answer = await deliver(carried);
                    VmBusRelayWire.Send(Relay, answer);
                }
                catch (Exception e)
                {
                    logger.LogWarning("The VSP of VM {Vm}'s relayed channel did not take its events ({Error}); trying again as a new open", vmName, e.Message);
                    await Task.Delay(RetryDelay);
                    if (_completed)
                        return;
                    Relay.Resynchronize();
                }
            }
        }
    }
}
