using System.Diagnostics;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>
/// One cluster of two silo processes (out-a, out-b) for every test of hvctl's output formats, with something of
/// each kind to print: a disk, a switch, a defined VM with disks, adapters and fw_cfg files (out-web), and a running
/// enlightened VM (out-mv) that moved from out-a to out-b with its adapter plugged into the switch, so that
/// there is a migration, a VMBus and a switch port. Made once: two silos and a migration cost tens of seconds.
/// </summary>
public sealed class OutputCluster : IAsyncLifetime
{
    public const string Collection = "hvctl output cluster";

    private readonly string _disks = Path.Combine(Path.GetTempPath(), $"actors-hvctl-output-disks-{Environment.ProcessId}");
    private readonly List<Process> _silos = [];

    public string Gateway { get; private set; } = string.Empty;

    /// <summary>What <c>hvctl vm create out-web</c> printed: its result on stdout, the upload's progress on stderr.</summary>
    internal InProcessHvctl.Result Create { get; private set; } = new(0, "", "");

    /// <summary>What <c>hvctl vm migrate out-mv --to out-b</c> printed, its progress lines included.</summary>
    internal InProcessHvctl.Result Migrate { get; private set; } = new(0, "", "");

    public static string Guest(string file) => Path.Combine(RepoRoot(), "guests", "build", file);

    public async Task InitializeAsync()
    {
        int[] ports = LoopbackPorts.Free(4);
        Gateway = $"127.0.0.1:{ports[1]}";
        _silos.Add(StartSilo("out-a", ports[0], ports[1], diskDirectory: _disks));
        _silos.Add(StartSilo("out-b", ports[2], ports[3], joinSiloPort: ports[0], diskDirectory: _disks));
        await WaitForGatewayAsync(Gateway, "out-a");
        await WaitForGatewayAsync(Gateway, "out-b");

        (await HvctlAsync("disk", "create", "out-disk", "--size", "8M", "--host", "out-a")).Succeeded();
        (await HvctlAsync("switch", "create", "out-lan")).Succeeded();
        Create = await HvctlAsync(
            "vm", "create", "out-web", "--kernel", Guest("hello.elf"), "--memory", "32M", "--vcpus", "2", "--hyperv",
            "--disk", "out-disk", "--nic", "switch=out-lan", "--nic", "switch=out-lan,mac=02:00:00:00:00:01", "--fw-cfg", "opt/actors/greeting=true");
        Create.Succeeded();

        // migrate-verify with passes=0 runs until it is stopped, and dirties its memory while it moves.
        (await HvctlAsync(
            "vm", "create", "out-mv", "--image", Guest("migrate-verify.elf"), "--memory", "32M", "--host", "out-a", "--hyperv",
            "--nic", "switch=out-lan", "--fw-cfg", "opt/actors/passes=0")).Succeeded();
        (await HvctlAsync("vm", "start", "out-mv")).Succeeded();
        Migrate = await HvctlAsync("vm", "migrate", "out-mv", "--to", "out-b");
        Migrate.Succeeded();
    }

    /// <summary>hvctl in this process against this cluster's gateway.</summary>
    internal Task<InProcessHvctl.Result> HvctlAsync(params string[] args) => InProcessHvctl.RunAsync([.. args, "--gateway", Gateway]);

    public async Task DisposeAsync()
    {
        foreach (Process silo in _silos)
        {
            silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
            silo.Dispose();
        }

        if (Directory.Exists(_disks))
            Directory.Delete(_disks, recursive: true);
    }
}
