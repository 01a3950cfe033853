using Actors.Grains.Placement;
using Actors.Grains.VmBus;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.VmBus;
using Actors.HwBackend.VmBus.IntegrationServices;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Vsp;

/// <summary>
/// The heartbeat VSP of one VM served from a grain on the host its configuration names
/// (<see cref="VmConfiguration.VspHost"/>), which need not be the VM's. The protocol is the same
/// <see cref="HeartbeatService"/> the VM's worker would run; here it sees the channel through a
/// <see cref="VmBusRelayEndpoint"/>: the worker delivers what the guest did and writes back what the
/// service answered, and the service's own requests go to the channel's grain on a grain timer. Its
/// time is this host's, not the guest's: a paused VM is still asked, and simply does not answer.
/// </summary>
[HostPinnedPlacement]
public sealed class HeartbeatVspGrain(ILogger<HeartbeatVspGrain> logger) : Grain, IHeartbeatVspGrain
{
    private static readonly uint Relid = VmBusOffer.IntegrationServiceRelid(VmBusOffer.Heartbeat);

    private readonly HostClock _clock = new();
    private HeartbeatService? _service;
    private VmBusRelayEndpoint? _endpoint;
    private string? _vmHost;

    private string VmName => VmWorkerKey.Parse(this.GetPrimaryKeyString()).VmName;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _service = new HeartbeatService(_clock, deadlinesChanged: () => { });
        _endpoint = new VmBusRelayEndpoint(Relid, _service);
        this.RegisterGrainTimer(BeatAsync, HeartbeatService.Interval, HeartbeatService.Interval);
        return Task.CompletedTask;
    }

    public Task<VmBusPackets> DeliverAsync(string vmHost, IReadOnlyList<VmBusChannelEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        _vmHost = vmHost;
        VmBusRelayPacket[] answer = _endpoint!.Apply(VmBusRelayWire.FromWire(events));
        return Task.FromResult(Packets(answer));
    }

    public Task<string> DescribeAsync() => Task.FromResult(_service!.Describe());

    /// <summary>Asks the guest for a heartbeat once a second, through the channel's grain and the VM's worker.</summary>
    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        if (_service!.NextEventNanoseconds is not { } due || due > _clock.NowNanoseconds || _vmHost is not { } vmHost)
            return;
        _service.FireDue(_clock.NowNanoseconds);
        VmBusPackets packets = Packets(_endpoint!.TakeUnsent());
        if (packets.Packets.Count == 0)
            return;
        try
        {
            await GrainFactory.GetGrain<IVmBusChannelGrain>(IVmBusChannelGrain.Key(VmName, Relid)).SendAsync(vmHost, packets);
        }
        catch (HypervisorException e)
        {
            // The VM stopped or moved; its next host delivers an open when the guest's channel is restored there.
            logger.LogInformation("The heartbeat VSP of VM {Vm} lost its channel on {Host}: {Reason}", VmName, vmHost, e.Message);
            _endpoint.Lose();
        }
    }

    private VmBusPackets Packets(VmBusRelayPacket[] packets) =>
        _endpoint!.Epoch is { } epoch && packets.Length > 0
            ? VmBusRelayWire.ToWire(epoch, packets)
            : VmBusPackets.None;

    /// <summary>This host's monotonic time, for a service that runs away from its VM's clock.</summary>
    private sealed class HostClock : IPlatformClock
    {
        public long NowNanoseconds => (long)System.Diagnostics.Stopwatch.GetElapsedTime(0).TotalNanoseconds;
    }
}
