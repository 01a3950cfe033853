using Actors.Grains.Telemetry;
using Actors.HwBackend.Network;
using Actors.HwBackend.VmBus.Network;
using Microsoft.Extensions.Logging;

namespace Actors.Grains.Worker;

/// <summary>
/// The worker's side of the VM's network adapters: each is a port on its virtual switch, plugged in
/// wherever the VM runs, so the switch delivers the port's frames here (<see cref="DeliverFramesAsync"/>).
/// </summary>
public sealed partial class VmWorkerGrain
{
    /// <summary>How often a running VM plugs its ports in again, so that a switch that lost its port table (its silo went) learns them back.</summary>
    private static readonly TimeSpan PortRefreshPeriod = TimeSpan.FromSeconds(15);

    /// <summary>Frames from the switch go straight into the guest's receive buffer, unless the VM is not running here (arriving, or stopped to move).</summary>
    public Task DeliverFramesAsync(int nic, FrameBatch frames)
    {
        if (_run is { Arriving: false, Moving: false } run && (uint)nic < (uint)run.Worker.NetworkAdapters.Count)
            run.Worker.NetworkAdapters[nic].Deliver(frames.Data, frames.Lengths);
        return Task.CompletedTask;
    }

    /// <summary>One uplink per configured adapter, its port named by the VM and the adapter's index.</summary>
    private IReadOnlyList<SwitchUplink> CreatePorts(VmConfiguration configuration) =>
        [.. (configuration.Nics ?? []).Select((nic, i) => new SwitchUplink(new SwitchPort(VmName, i, nic.AddressOf(VmName, i)), logger))];

    private static IReadOnlyList<NetworkAdapter> Adapters(IReadOnlyList<SwitchUplink> ports) =>
        [.. ports.Select(port => new NetworkAdapter(port.Address, port))];

    /// <summary>Starts forwarding what the guest sends and plugs the ports in (the switch then delivers here, also after a move).</summary>
    private async Task PlugPortsAsync(Run run)
    {
        if (run.Ports.Count == 0)
            return;
        using (HypervisorTracing.Detach())
        {
            for (int i = 0; i < run.Ports.Count; i++)
            {
                SwitchUplink port = run.Ports[i];
                IVirtualSwitchGrain virtualSwitch = Switch(run, i);
                _ = port.RunAsync(batch => virtualSwitch.ForwardAsync(port.Port, batch));
            }
        }

        await ConnectPortsAsync(run);
        using (HypervisorTracing.Detach())
            run.PortRefresh = this.RegisterGrainTimer(_ => ConnectPortsAsync(run), PortRefreshPeriod, PortRefreshPeriod);
    }

    /// <summary>Plugs each port in; an adapter whose switch refuses (it was deleted) or does not answer sees its cable pulled until it is plugged in again.</summary>
    private async Task ConnectPortsAsync(Run run)
    {
        var sink = this.AsReference<INetworkPortSink>();
        for (int i = 0; i < run.Ports.Count && ReferenceEquals(_run, run); i++)
        {
            NetworkVsp adapter = run.Worker.NetworkAdapters[i];
            try
            {
                await Switch(run, i).ConnectAsync(run.Ports[i].Port, sink);
                adapter.SetLink(true);
            }
            catch (Exception e)
            {
                if (adapter.LinkUp)
                    logger.LogWarning("VM {Vm}'s network adapter {Nic} is not plugged into switch {Switch}: {Error}", VmName, i, run.Configuration.Nics![i].Switch, e.Message);
                adapter.SetLink(false);
            }
        }
    }

    /// <summary>Stops forwarding and unplugs the ports; a port that moved with its VM stays plugged in where it went.</summary>
    private async Task UnplugPortsAsync(Run run)
    {
        run.PortRefresh?.Dispose();
        var sink = this.AsReference<INetworkPortSink>();
        for (int i = 0; i < run.Ports.Count; i++)
        {
            run.Ports[i].Complete();
            try
            {
                await Switch(run, i).DisconnectAsync(run.Ports[i].Port, sink);
            }
            catch (Exception e)
            {
                logger.LogWarning("VM {Vm}'s network adapter {Nic} could not be unplugged from its switch: {Error}", VmName, i, e.Message);
            }
        }
    }

    private IVirtualSwitchGrain Switch(Run run, int nic) => GrainFactory.GetGrain<IVirtualSwitchGrain>(run.Configuration.Nics![nic].Switch);
}
