using System.CommandLine;
using Actors.Client;
using Actors.Grains;

namespace Actors.Hvctl;

/// <summary><c>hvctl demo</c>: a two-host cluster in one process booting the CPU self-test guest on the second host.</summary>
internal static class DemoCommand
{
    public const string GuestFile = "cpu-selftest.elf";
    public const string VmName = "selftest";
    public static readonly string[] Hosts = ["host-a", "host-b"];

    /// <summary>The QEMU-style status of a guest that wrote 0 to isa-debug-exit: all its tests passed.</summary>
    private const int PassedStatus = 1;

    public static Command Build(CommonOptions options, HvctlIo io)
    {
        var command = new Command("demo", "start a two-host cluster in this process, boot the CPU self-test guest on host-b and show the cluster");
        command.SetAction(async (parsed, ct) =>
        {
            if (options.ExplicitGateway(parsed) is not null)
                throw new UsageException("demo starts its own cluster: drop --gateway");

            string image = GuestLocator.Find(GuestFile)
                ?? throw new UsageException(
                    $"cannot find guests/build/{GuestFile}: run hvctl from the repository, after building the guests with 'make -C guests'");

            await using EmbeddedCluster cluster = await EmbeddedCluster.StartAsync(Hosts, "auto", ct).ConfigureAwait(false);
            foreach (EmbeddedSilo silo in cluster.Silos)
                await io.Out.WriteLineAsync($"demo: {silo.Host} is up (silo {silo.SiloEndpoint}, gateway {silo.GatewayEndpoint})").ConfigureAwait(false);
            string target = Hosts[^1];
            await io.Out.WriteLineAsync($"demo: booting {Path.GetRelativePath(Directory.GetCurrentDirectory(), image)} as VM '{VmName}' on {target}; its console follows").ConfigureAwait(false);
            await io.Out.FlushAsync(ct).ConfigureAwait(false);

            HypervisorClient client = cluster.Client;
            VmStatus final = await GuestRun.BootAndStreamAsync(
                client, VmName, new GuestBoot(image, null, null), 64UL << 20, 1, target, io.StandardOutput, ct).ConfigureAwait(false);

            await io.Out.WriteLineAsync().ConfigureAwait(false);
            await io.Out.WriteLineAsync($"demo: VM '{VmName}' is {final.State} on {final.Host ?? "-"}, exit status {final.ExitStatus?.ToString() ?? "-"}").ConfigureAwait(false);
            await io.Out.WriteLineAsync("$ hvctl vm list").ConfigureAwait(false);
            await io.Out.WriteAsync(ClusterTables.FormatVms(await client.ListVmsAsync().ConfigureAwait(false))).ConfigureAwait(false);
            await io.Out.WriteLineAsync("$ hvctl host list").ConfigureAwait(false);
            await io.Out.WriteAsync(ClusterTables.FormatHosts(await client.ListHostsAsync().ConfigureAwait(false))).ConfigureAwait(false);

            if (final.ExitStatus == PassedStatus)
            {
                await io.Out.WriteLineAsync("demo: the guest passed").ConfigureAwait(false);
                return ExitCodes.Success;
            }

            await io.Error.WriteLineAsync(final.ExitStatus is int status
                ? $"hvctl: the demo guest failed with exit status {status}: its console above says which test"
                : $"hvctl: the demo guest did not finish: {HvctlApp.OneLine(final.FailureReason ?? final.State.ToString())}").ConfigureAwait(false);
            return ExitCodes.Failure;
        });
        return command;
    }
}
