using System.CommandLine;
using Actors.Client;
using Actors.Grains;
using Actors.Hvctl.Output;

namespace Actors.Hvctl;

/// <summary><c>hvctl host ...</c>: the hosts (silos) of the cluster.</summary>
internal static class HostCommands
{
    public static Command Build(CommonOptions options, HvctlIo io)
    {
        Option<OutputFormat> output = OutputOption.Create();
        var list = new Command("list", "list hosts: HOST BACKEND CORES MEMORY FREE, what the backend offers (HW-VIRT DIRTY-LOG IRQCHIP MAX-VCPUS), VMS") { output };
        list.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            IReadOnlyList<HostInfo> hosts = await client.ListHostsAsync().ConfigureAwait(false);
            await io.Out.WriteAsync(OutputRenderer.Render(
                parsed.GetValue(output),
                () => ClusterTables.FormatHosts(hosts),
                () => (IReadOnlyList<HostView>)[.. hosts.Select(HostView.From)],
                OutputJsonContext.Default.IReadOnlyListHostView)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return new Command("host", "the hosts of the cluster") { list };
    }
}
