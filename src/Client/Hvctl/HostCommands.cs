using System.CommandLine;
using Actors.Client;

namespace Actors.Hvctl;

/// <summary><c>hvctl host ...</c>: the hosts (silos) of the cluster.</summary>
internal static class HostCommands
{
    public static Command Build(CommonOptions options, HvctlIo io)
    {
        var list = new Command("list", "list hosts: HOST BACKEND CORES MEMORY FREE VMS");
        list.SetAction(async (parsed, ct) =>
        {
            await using HypervisorClient client = await options.ConnectAsync(parsed, ct).ConfigureAwait(false);
            await io.Out.WriteAsync(ClusterTables.FormatHosts(await client.ListHostsAsync().ConfigureAwait(false))).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return new Command("host", "the hosts of the cluster") { list };
    }
}
