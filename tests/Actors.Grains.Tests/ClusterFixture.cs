using Actors.Silo;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>One three-silo cluster (hosts host-0..host-2) shared by every test in the collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int HostCount = 3;

    private InProcessTestCluster? _cluster;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("cluster not deployed");

    public IClusterClient Client => Cluster.Client;

    /// <summary>"Silo_1" (the test cluster's name) becomes "host-1"; a name already mapped stays as it is.</summary>
    public static string HostOf(string siloName) =>
        siloName.StartsWith("host-", StringComparison.Ordinal) ? siloName : $"host-{siloName[(siloName.LastIndexOf('_') + 1)..]}";

    public async Task InitializeAsync() => _cluster = await DeployAsync(HostCount);

    /// <summary>
    /// A cluster of <paramref name="hosts"/> silos configured as Actors silos, named host-0, host-1, ...;
    /// grain state in <paramref name="redis"/> when given (see <see cref="Actors.Tests.Shared.RedisServer"/>), else in memory.
    /// </summary>
    public static async Task<InProcessTestCluster> DeployAsync(int hosts, Action<string, ISiloBuilder>? configureHost = null, string? redis = null)
    {
        var builder = new InProcessTestClusterBuilder((short)hosts);
        builder.ConfigureSilo((options, silo) =>
        {
            // The test cluster sets SiloOptions.SiloName from these options after our delegates run, so the
            // host name has to go here as well as into the settings.
            options.SiloName = HostOf(options.SiloName);
            ActorsSilo.Configure(silo, new SiloSettings(options.SiloName, 11111, 30000, Join: null, Backend: "emulator", Redis: redis));
            silo.Services.Configure<Actors.Grains.Disks.DiskStoreOptions>(o => o.Directory = DiskDirectory);
            configureHost?.Invoke(options.SiloName, silo);
        });
        builder.ConfigureClient(client => client.AddMemoryStreams(ConsoleStreams.Provider).AddActivityPropagation());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>Where the test clusters' hosts keep their disks: one directory per test run, under the system's temporary files.</summary>
    public static string DiskDirectory { get; } = Path.Combine(Path.GetTempPath(), $"actors-test-disks-{Environment.ProcessId}");

    public static InProcessSiloHandle SiloNamed(InProcessTestCluster cluster, string host) =>
        cluster.Silos.Single(s => s.ServiceProvider.GetRequiredService<ILocalSiloDetails>().Name == host);

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
        if (Directory.Exists(DiskDirectory))
            Directory.Delete(DiskDirectory, recursive: true);
    }

    /// <summary>The silo a grain's activation lives on, or null if it has none.</summary>
    public SiloAddress? SiloOf(IAddressable grain) =>
        Cluster.TryGetGrainContext(grain.GetGrainId(), out IGrainContext? context) ? context.Address.SiloAddress : null;

    public SiloAddress SiloOfHost(string host) => SiloNamed(Cluster, host).SiloAddress;
}
