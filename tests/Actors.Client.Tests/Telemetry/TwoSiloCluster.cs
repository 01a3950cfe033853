using System.Globalization;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests.Telemetry;

/// <summary>
/// Two silo processes, <c>{name}-a</c> (whose gateway hvctl uses) and <c>{name}-b</c> joining it, each serving
/// <c>--health-port</c>, with a running guest to move between them. Both are killed on dispose.
/// </summary>
internal sealed class TwoSiloCluster : IAsyncDisposable
{
    private readonly SiloProcess[] _silos;

    private TwoSiloCluster(string name, SiloProcess[] silos, string gateway, int[] healthPorts)
    {
        _silos = silos;
        Gateway = gateway;
        HostA = $"{name}-a";
        HostB = $"{name}-b";
        HealthPorts = healthPorts;
    }

    public string Gateway { get; }

    public string HostA { get; }

    public string HostB { get; }

    /// <summary>The health (and metrics) port of each silo, a's first.</summary>
    public IReadOnlyList<int> HealthPorts { get; }

    /// <summary>Starts both silos with <paramref name="environment"/> and waits until hvctl sees both hosts.</summary>
    public static async Task<TwoSiloCluster> StartAsync(string name, IReadOnlyDictionary<string, string>? environment = null)
    {
        int[] ports = LoopbackPorts.Free(6);
        var settings = new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            ["ACTORS_DISK_DIR"] = TestDiskDirectory,
        };
        SiloProcess a = SiloProcess.Start(Arguments($"{name}-a", ports[0], ports[1], ports[4], join: null), settings);
        SiloProcess b = SiloProcess.Start(Arguments($"{name}-b", ports[2], ports[3], ports[5], join: ports[0]), settings);
        var cluster = new TwoSiloCluster(name, [a, b], $"127.0.0.1:{Text(ports[1])}", [ports[4], ports[5]]);
        try
        {
            await WaitForGatewayAsync(cluster.Gateway, cluster.HostB);
        }
        catch
        {
            // No test holds the cluster yet to end its silos.
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Creates and starts a guest on host a that runs (and dirties its memory) until stopped.</summary>
    public async Task StartGuestAsync(string vm)
    {
        ProcessResult create = await HvctlAsync("vm", "create", vm, "--image", Guest("migrate-verify.elf"), "--memory", "64M", "--host", HostA,
            "--fw-cfg", "opt/actors/passes=0", "--gateway", Gateway);
        Assert.True(create.ExitCode == 0, $"vm create: {create.Error}");
        ProcessResult start = await HvctlAsync("vm", "start", vm, "--gateway", Gateway);
        Assert.True(start.ExitCode == 0, $"vm start: {start.Error}");
    }

    /// <summary>What the silos printed last, for failure messages.</summary>
    public string Tail => string.Join("\n", _silos.Select((s, i) => $"--- silo {i}:\n{s.Tail}"));

    public async ValueTask DisposeAsync()
    {
        foreach (SiloProcess silo in _silos)
            await silo.DisposeAsync();
    }

    private static string[] Arguments(string host, int siloPort, int gatewayPort, int healthPort, int? join) =>
    [
        "--host", host, "--silo-port", Text(siloPort), "--gateway-port", Text(gatewayPort), "--health-port", Text(healthPort),
        .. join is int primary ? new[] { "--join", $"127.0.0.1:{Text(primary)}" } : [],
    ];

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}
