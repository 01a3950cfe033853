using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Grains;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>
/// samples/Actors.Samples.Quickstart as its users run it: a process of its own against two silo processes, checked
/// by what it prints, its exit code, and what the cluster recorded afterwards.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed partial class QuickstartSampleTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task The_sample_creates_starts_watches_migrates_stops_and_deletes_a_VM_on_two_silo_processes()
    {
        int[] ports = LoopbackPorts.Free(4);
        string gateway = $"127.0.0.1:{ports[1]}";
        var environment = new Dictionary<string, string> { ["ACTORS_DISK_DIR"] = TestDiskDirectory };
        await using SiloProcess first = SiloProcess.Start(["--host", "sample-a", "--silo-port", Text(ports[0]), "--gateway-port", Text(ports[1])], environment);
        await using SiloProcess second = SiloProcess.Start(
            ["--host", "sample-b", "--silo-port", Text(ports[2]), "--gateway-port", Text(ports[3]), "--join", $"127.0.0.1:{Text(ports[0])}"], environment);
        await WaitForGatewayAsync(gateway, "sample-b");

        // Watching 5 s after the move lets the guest report a few more passes, each a check of every page it stamped.
        ProcessResult run = await QuickstartAsync("--gateway", gateway, "--watch", "5");

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Out}\n{run.Error}\nsilo a:\n{first.Tail}\nsilo b:\n{second.Tail}");
        Assert.Equal(string.Empty, run.Error);
        Assert.Contains($"quickstart: connected to {gateway}; the VM starts on sample-a and moves to sample-b\n", run.Out);
        Assert.Contains("quickstart: created VM quickstart: Defined, 32 MiB, 1 vCPU\n", run.Out);
        Assert.Contains("quickstart: started quickstart: Running on sample-a\n", run.Out);
        // The guest's own lines, whole: its banner, and the page checks it keeps passing across the move.
        Assert.Contains("console: migrate-verify: stamping all RAM from 4 MiB up, from the multiboot memory map\n", run.Out);
        Assert.Matches(@"\nconsole: pass \d+ ok\n", run.Out);
        Assert.DoesNotContain("FAIL", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"\nquickstart: quickstart is Running on sample-a: [\d,]+ instructions", run.Out);
        Match moved = MigratedLine().Match(run.Out);
        Assert.True(moved.Success, run.Out);
        Assert.Matches(@"\nconsole: pass \d+ ok\n", run.Out[moved.Index..]);
        Assert.Matches(@"\nquickstart: quickstart is Running on sample-b: [\d,]+ instructions", run.Out);
        Assert.Matches(@"\nquickstart: stopped quickstart on sample-b \([\d,]+ instructions, \d+ console bytes\) and deleted it\n$", run.Out);

        // The cluster's own record agrees: one completed move from a to b with the downtime the sample printed,
        // and no VM left behind on either host.
        await using HypervisorClient client = await HypervisorClient.ConnectAsync(gateway);
        MigrationStatus migration = Assert.Single(await client.ListMigrationsAsync());
        Assert.Equal(("quickstart", "sample-a", "sample-b", MigrationState.Completed), (migration.Vm, migration.Source, migration.Target, migration.State));
        Assert.Equal(moved.Groups["downtime"].Value, migration.Downtime!.Value.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture));
        Assert.Equal(moved.Groups["passes"].Value, Text(migration.Pass));
        HypervisorException gone = await Assert.ThrowsAsync<HypervisorException>(() => client.GetVmAsync("quickstart"));
        Assert.Contains("quickstart", gone.Message);
        Assert.All(await client.ListHostsAsync(), h => Assert.Empty(h.RunningVms));
    }

    [Fact]
    public async Task Bad_arguments_and_a_missing_cluster_are_one_line_each_with_a_non_zero_exit()
    {
        ProcessResult unknown = await QuickstartAsync("--gateway");
        Assert.Equal((2, string.Empty), (unknown.ExitCode, unknown.Out));
        Assert.StartsWith("quickstart: --gateway needs a value; usage: quickstart [--gateway HOST:PORT]", unknown.Error);
        Assert.Single(unknown.Error.TrimEnd().Split('\n'));

        ProcessResult watch = await QuickstartAsync("--watch", "soon");
        Assert.Equal((2, "quickstart: --watch takes seconds from 0 to 600, not 'soon'"), (watch.ExitCode, watch.Error.TrimEnd()));

        ProcessResult halfTls = await QuickstartAsync("--tls-cert", "client.crt");
        Assert.Equal((2, "quickstart: TLS needs all of --tls-cert, --tls-key and --tls-ca; only 1 of them given"), (halfTls.ExitCode, halfTls.Error.TrimEnd()));

        // Nothing listens on a port just freed: the client gives up after its connect timeout.
        string nowhere = $"127.0.0.1:{LoopbackPorts.Free(1)[0]}";
        ProcessResult noCluster = await QuickstartAsync("--gateway", nowhere);
        Assert.Equal((1, string.Empty), (noCluster.ExitCode, noCluster.Out));
        Assert.Equal($"quickstart: {HypervisorClient.Unreachable(nowhere)}", noCluster.Error.TrimEnd());
    }

    private static async Task<ProcessResult> QuickstartAsync(params string[] args)
    {
        // The sample's own build output, of this test run's configuration and framework (bin/Release/net10.0).
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory);
        string dll = Path.Combine(
            RepoRoot(), "samples", "Actors.Samples.Quickstart", "bin", testOutput.Parent!.Name, testOutput.Name, "Actors.Samples.Quickstart.dll");
        Assert.True(File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")), $"the sample is not built at {dll}");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = RepoRoot() };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        // Only what the command line says: none of the sample's environment defaults from the test run.
        foreach (string name in new[] { "ACTORS_GATEWAY", "ACTORS_TLS_CERT", "ACTORS_TLS_KEY", "ACTORS_TLS_CA" })
            start.Environment.Remove(name);
        return await RunToExitAsync(start, Limit);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\nquickstart: migrated quickstart from sample-a to sample-b: downtime (?<downtime>[\d.]+) ms, total [\d.]+ ms, [\d.]+ MiB sent in (?<passes>\d+) passes\n")]
    private static partial Regex MigratedLine();
}
