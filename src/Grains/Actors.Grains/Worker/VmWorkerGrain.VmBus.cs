using Actors.Grains.VmBus;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.Worker;

namespace Actors.Grains.Worker;

/// <summary>The worker's side of the VM's VMBus for grains: its status, and the channels whose VSP runs in a grain elsewhere.</summary>
public sealed partial class VmWorkerGrain
{
    /// <summary>How long <c>vm show</c> waits for a VSP on another host to say how it is.</summary>
    private static readonly TimeSpan RemoteVspAnswerTimeout = TimeSpan.FromSeconds(2);

    private static readonly uint HeartbeatRelid = VmBusOffer.IntegrationServiceRelid(VmBusOffer.Heartbeat);

    public Task<VmBusStatus> GetVmBusStatusAsync()
    {
        Run run = Running();
        if (run.Worker.VmBusState is not { } state)
            throw new HypervisorException($"VM '{VmName}' has no VMBus (create it with --hyperv)");
        string ours = $"{Host} (the VM's worker)";
        return Task.FromResult(VmBusStatusMapper.ToStatus(Host, run.Worker.VmBusOffers, state, relid =>
            relid == HeartbeatRelid && run.HeartbeatRelay is not null ? $"{run.Configuration.VspHost} (heartbeat VSP grain)" : ours));
    }

    public Task<int> SendChannelPacketsAsync(uint relid, VmBusPackets packets)
    {
        ArgumentNullException.ThrowIfNull(packets);
        Run run = Running();
        if (relid != HeartbeatRelid || run.HeartbeatRelay is not { } relay)
            throw new HypervisorException($"channel {relid} of VM '{VmName}' is served by the VM's own worker, not by a VSP grain");
        return Task.FromResult(VmBusRelayWire.Send(relay.Relay, packets));
    }

    /// <summary>Hands the heartbeat channel to its VSP grain on <paramref name="vspHost"/> and starts carrying its events there.</summary>
    private VmBusRelayPump RelayHeartbeat(VmWorker worker, string vspHost)
    {
        var pump = new VmBusRelayPump(VmName, logger);
        pump.Relay = worker.RelayDevice(VmBusOffer.Heartbeat, pump.Wake);
        IHeartbeatVspGrain vsp = GrainFactory.GetGrain<IHeartbeatVspGrain>(VmWorkerKey.Format(vspHost, VmName));
        _ = pump.RunAsync(events => vsp.DeliverAsync(Host, events));
        return pump;
    }

    private async Task<string> DescribeRelayedHeartbeatAsync(Run run)
    {
        string vspHost = run.Configuration.VspHost!;
        try
        {
            string state = await GrainFactory.GetGrain<IHeartbeatVspGrain>(VmWorkerKey.Format(vspHost, VmName)).DescribeAsync().WaitAsync(RemoteVspAnswerTimeout);
            return $"{state}, served on {vspHost}";
        }
        catch (Exception e) when (e is TimeoutException or HypervisorException or OrleansException)
        {
            return $"its VSP on {vspHost} does not answer ({e.Message})";
        }
    }
}
