using System.CommandLine;
using System.Globalization;
using Actors.Client;
using Actors.Grains;

namespace Actors.Hvctl;

/// <summary>
/// <c>hvctl demo</c>: a two-host cluster in one process, and on it the headline: a VM live-migrating from one
/// host to the other while its console keeps streaming, then what the move cost it. The guest is
/// migrate-verify, which stamps all its RAM over and over and checks every page it stamped before, so the
/// passes it reports after the move are the proof that no page was lost.
/// </summary>
internal static class DemoCommand
{
    public const string GuestFile = "migrate-verify.elf";
    public const string VmName = "verify";
    public static readonly string[] Hosts = ["host-a", "host-b"];

    private const ulong MemoryBytes = 64UL << 20;

    // Passes the guest reports on its first host before it moves, and on the second before it is asked to finish.
    private const int PassesBefore = 3;
    private const int PassesAfter = 3;

    // A pass of 64 MiB takes well under a second; this bounds a guest that stopped reporting on a starved machine.
    private static readonly TimeSpan PassTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The QEMU-style status of a guest that wrote 0 to isa-debug-exit: every check passed.</summary>
    private const int PassedStatus = 1;

    public static Command Build(CommonOptions options, HvctlIo io)
    {
        var command = new Command("demo", "start a two-host cluster in this process and live-migrate a running VM between the hosts while its console streams");
        command.SetAction(async (parsed, ct) =>
        {
            if (options.ExplicitGateway(parsed) is not null)
                throw new UsageException("demo starts its own cluster: drop --gateway");

            string image = GuestLocator.Find(GuestFile)
                ?? throw new UsageException(
                    $"cannot find guests/build/{GuestFile}: run hvctl from the repository, after building the guests with 'make -C guests'");

            await using EmbeddedCluster cluster = await EmbeddedCluster.StartAsync(Hosts, "auto", ct).ConfigureAwait(false);
            foreach (EmbeddedSilo silo in cluster.Silos)
                await SayAsync(io, $"{silo.Host} is up (silo {silo.SiloEndpoint}, gateway {silo.GatewayEndpoint})").ConfigureAwait(false);
            return await RunAsync(cluster.Client, image, io, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(HypervisorClient client, string image, HvctlIo io, CancellationToken ct)
    {
        (string source, string target) = (Hosts[0], Hosts[1]);
        await SayAsync(io, $"booting {Path.GetFileName(image)} as VM '{VmName}' on {source}: it stamps its RAM over and over and checks every page it stamped before; its console follows").ConfigureAwait(false);
        await client.CreateVmAsync(
            VmName, image, MemoryBytes, 1, source, ct,
            firmwareFiles: new Dictionary<string, string> { ["opt/actors/passes"] = "0", ["opt/actors/report-every"] = "1" }).ConfigureAwait(false);
        ConsoleSubscription subscription = await client.SubscribeConsoleAsync(VmName, ct).ConfigureAwait(false);
        await client.StartVmAsync(VmName).ConfigureAwait(false);

        var console = new ConsoleLineCounter(io.StandardOutput, line => line.StartsWith("pass ", StringComparison.Ordinal) && line.EndsWith(" ok", StringComparison.Ordinal));
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task<VmStatus?> pump = ConsoleSession.PumpAsync(client, subscription, console, Task.Delay(Timeout.Infinite, leave.Token), CancellationToken.None);
        try
        {
            if (!await PassesAsync(console, PassesBefore, pump, ct).ConfigureAwait(false))
                return await EndedEarlyAsync(pump, io).ConfigureAwait(false);

            await SayAsync(io, $"live-migrating '{VmName}' from {source} to {target} while it runs").ConfigureAwait(false);
            string id = await client.MigrateVmAsync(VmName, target, new MigrationOptions(TimeSpan.FromMilliseconds(20))).ConfigureAwait(false);
            int pass = -1;
            MigrationStatus moved = await client.WaitForMigrationAsync(
                id,
                s =>
                {
                    if (s.Pass != pass && s.Pass > 0 && !s.Ended)
                        io.Out.WriteLine($"demo: migration {MigrateCommands.Progress(s)}");
                    pass = s.Pass;
                },
                ct).ConfigureAwait(false);
            await SayAsync(io, MigrateCommands.Summary(moved)).ConfigureAwait(false);
            if (moved.State != MigrationState.Completed)
                return ExitCodes.Failure;

            if (!await PassesAsync(console, console.Count + PassesAfter, pump, ct).ConfigureAwait(false))
                return await EndedEarlyAsync(pump, io).ConfigureAwait(false);
            await SayAsync(io, "asking the guest to finish: it checks every page once more").ConfigureAwait(false);
            await client.SendConsoleInputAsync(VmName, "q"u8.ToArray()).ConfigureAwait(false);
            VmStatus final = await pump.ConfigureAwait(false) ?? throw new OperationCanceledException(ct);

            await io.Out.WriteLineAsync("$ hvctl vm list").ConfigureAwait(false);
            await io.Out.WriteAsync(ClusterTables.FormatVms(await client.ListVmsAsync().ConfigureAwait(false))).ConfigureAwait(false);
            await io.Out.WriteLineAsync("$ hvctl host list").ConfigureAwait(false);
            await io.Out.WriteAsync(ClusterTables.FormatHosts(await client.ListHostsAsync().ConfigureAwait(false))).ConfigureAwait(false);
            await io.Out.WriteLineAsync("$ hvctl vm migrations").ConfigureAwait(false);
            await io.Out.WriteAsync(ClusterTables.FormatMigrations(await client.ListMigrationsAsync().ConfigureAwait(false))).ConfigureAwait(false);

            if (final.ExitStatus != PassedStatus)
                return await FailedAsync(final, io).ConfigureAwait(false);
            await SayAsync(io, string.Create(CultureInfo.InvariantCulture,
                $"'{VmName}' moved from {source} to {target} while it ran; it was paused for {ClusterTables.Milliseconds(moved.Downtime ?? TimeSpan.Zero)}, and every page it checked on {target} held what it wrote on {source}")).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        finally
        {
            // On an error above, stop copying the console; the cluster's disposal stops the VM.
            await leave.CancelAsync().ConfigureAwait(false);
            await pump.ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the guest has reported <paramref name="passes"/> passes in all; false if it stopped first.</summary>
    private static async Task<bool> PassesAsync(ConsoleLineCounter console, int passes, Task<VmStatus?> pump, CancellationToken ct)
    {
        Task reached = console.WaitForAsync(passes, ct);
        Task first = await Task.WhenAny(reached, pump, Task.Delay(PassTimeout, ct)).ConfigureAwait(false);
        if (first == reached || first == pump)
        {
            await first.ConfigureAwait(false);
            return first == reached;
        }

        ct.ThrowIfCancellationRequested();
        throw new HypervisorException($"the demo guest reported no pass for {PassTimeout.TotalMinutes:0} minutes");
    }

    private static async Task<int> EndedEarlyAsync(Task<VmStatus?> pump, HvctlIo io) =>
        await pump.ConfigureAwait(false) is { } final
            ? await FailedAsync(final, io).ConfigureAwait(false)
            : ExitCodes.Failure;

    private static async Task<int> FailedAsync(VmStatus final, HvctlIo io)
    {
        await io.Error.WriteLineAsync(final.ExitStatus is int status
            ? $"hvctl: the demo guest failed with exit status {status}: its console above says which page"
            : $"hvctl: the demo guest did not finish: {HvctlApp.OneLine(final.FailureReason ?? final.State.ToString())}").ConfigureAwait(false);
        return ExitCodes.Failure;
    }

    private static async Task SayAsync(HvctlIo io, string line)
    {
        await io.Out.WriteLineAsync($"demo: {line}").ConfigureAwait(false);
        await io.Out.FlushAsync().ConfigureAwait(false);
    }
}
