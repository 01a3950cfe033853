using System.Net;
using Actors.Grains;
using Actors.Grains.Disks;
using Actors.Grains.Hosts;
using Actors.Grains.Partitions;
using Actors.Grains.Placement;
using Actors.Grains.Telemetry;
using Actors.HwBackend.Abstractions;
using Actors.Silo.Dashboard;
using Actors.Silo.Tls;
using Actors.Silo.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Actors.Silo;

/// <summary>
/// The whole silo configuration in one place, shared by the silo executable, embedded silos (hvctl) and
/// test clusters, so all three run the same grains, placement, storage and streams.
/// </summary>
public static class ActorsSilo
{
    public const string ClusterId = "actors";
    public const string ServiceId = "actors";
    public const string PubSubStorage = "PubSubStore";

    /// <summary>Everything but clustering, which differs between real silos and test clusters.</summary>
    /// <summary>How often the console streams' pulling agents look for new output.</summary>
    public static readonly TimeSpan ConsolePollingPeriod = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Pausing and stopping a VM hold a grain turn until its vCPU threads park or exit, which on a
    /// starved host takes a while. The pool's minimum is one thread per core, and past it the pool
    /// grows by about one thread per half second, so on a two-core host two such turns would hold
    /// every other VM's calls for seconds. Threads up to the minimum start at once.
    /// </summary>
    private static void RaiseThreadPoolMinimum()
    {
        const int Minimum = 32;
        ThreadPool.GetMinThreads(out int workers, out int completionPorts);
        if (workers < Minimum)
            ThreadPool.SetMinThreads(Minimum, completionPorts);
    }

    public static void Configure(ISiloBuilder silo, SiloSettings settings)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(settings);
        Validate(settings);
        BackendSelection.Choice backend = BackendSelection.Create(settings.Backend, settings.CpuTier);
        RaiseThreadPoolMinimum();

        // Host-pinned grains find their silo by this name.
        silo.Configure<SiloOptions>(o => o.SiloName = settings.HostName);
        silo.AddActivityPropagation();
        // The default directory deactivates every grain whose entry lived on a silo that dies; a host's
        // backend grain holds its running VMs, so one host dying would stop VMs on others. This
        // directory recovers entries from the surviving silos instead. (Experimental in Orleans 10.)
#pragma warning disable ORLEANSEXP003
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        AddGrainStorage(silo, PubSubStorage, settings.Redis);
        AddGrainStorage(silo, PartitionGrain.StorageName, settings.Redis);
        // Memory streams are queues that a pulling agent polls; the default 100 ms period caps a console
        // at one poll's worth of batches per tenth of a second, so poll often: an idle queue costs little.
        silo.AddMemoryStreams(ConsoleStreams.Provider, streams => streams.ConfigurePullingAgent(agent =>
            agent.Configure(o =>
            {
                o.GetQueueMsgsTimerPeriod = ConsolePollingPeriod;
                o.BatchContainerBatchSize = 32; // deliver what piled up in one go, not one batch per attempt
            })));

        IServiceCollection services = silo.Services;
        services.AddMetrics();
        services.AddSingleton(backend);
        services.AddSingleton(backend.Backend);
        services.AddOptions<HostMemoryOptions>();
        services.AddOptions<DiskStoreOptions>();
        services.AddSingleton<HypervisorMetrics>();
        services.AddSingleton<MigrationMetrics>();
        services.AddPlacementDirector<HostPinnedPlacement, HostPinnedPlacementDirector>();
        services.AddPlacementDirector<HardwareColocatedPlacement, HardwareColocatedPlacementDirector>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, HostRegistration>();
    }

    private static void AddGrainStorage(ISiloBuilder silo, string name, string? redis)
    {
        if (redis is null)
            silo.AddMemoryGrainStorage(name);
        else
            silo.AddRedisGrainStorage(name, o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
    }

    /// <summary>
    /// A silo host, ready to start, with its membership in Redis (<see cref="SiloSettings.Redis"/>) or else held by
    /// the primary silo; throws <see cref="SiloConfigurationException"/> for bad settings or a port in use.
    /// </summary>
    public static IHost Build(SiloSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Validate(settings);
        PortCheck.EnsureFree(new IPEndPoint(settings.ListenAddress, settings.SiloPort), "--silo-port");
        PortCheck.EnsureFree(new IPEndPoint(settings.ListenAddress, settings.GatewayPort), "--gateway-port");
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ServiceId;
            });
            silo.Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = settings.AdvertisedAddress;
                o.SiloPort = settings.SiloPort;
                o.GatewayPort = settings.GatewayPort;
                o.SiloListeningEndpoint = new IPEndPoint(settings.ListenAddress, settings.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(settings.ListenAddress, settings.GatewayPort);
            });
            if (settings.Redis is null)
                silo.UseDevelopmentClustering(settings.PrimaryEndpoint);
            else
                silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(settings.Redis));
            if (settings.InKubernetes)
                silo.UseKubernetesHosting();
            if (settings.Tls is { } tls)
            {
                // Before UseTls: connection middleware runs in the order it is added, and TLS reads the pool.
                silo.Configure<SiloConnectionOptions>(o =>
                {
                    o.ConfigureSiloInboundConnection(TlsBlockPool.Use);
                    o.ConfigureSiloOutboundConnection(TlsBlockPool.Use);
                    o.ConfigureGatewayInboundConnection(TlsBlockPool.Use);
                });
                silo.UseTls(tls.Certificate, tls.ApplyTo);
            }

            OrleansDashboardLink.Configure(silo, serves: settings.Dashboard is not null);
            Configure(silo, settings);
        });
        SiloTelemetry.Add(builder.Services, settings.HostName, Environment.GetEnvironmentVariable, scrape: settings.Health is not null);
        SiloWebServer.Add(builder.Services, settings.Health, SiloWebSite.Health);
        SiloWebServer.Add(builder.Services, settings.Dashboard, DashboardSite.Create(settings));
        return builder.Build();
    }

    private static void Validate(SiloSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.HostName) || settings.HostName.Any(char.IsWhiteSpace))
            throw new SiloConfigurationException($"host name '{settings.HostName}' must be non-empty and without spaces");
        ValidatePort("silo port", settings.SiloPort);
        ValidatePort("gateway port", settings.GatewayPort);
        if (settings.SiloPort == settings.GatewayPort)
            throw new SiloConfigurationException($"silo port and gateway port are both {settings.SiloPort}; give them different ports");
        if (IsAny(settings.AdvertisedAddress))
            throw new SiloConfigurationException($"--listen {settings.ListenAddress} binds every interface; give --advertise, the address other silos and clients reach this one at");
        if (settings.Redis is not null && settings.Join is not null)
            throw new SiloConfigurationException("--join is for membership held by a primary silo; with --redis the silos find each other in Redis, so drop --join");
        if (settings.Health is { Port: int health } && (health == settings.SiloPort || health == settings.GatewayPort))
            throw new SiloConfigurationException($"health port {health} is also the silo or gateway port; give it a port of its own");
        if (settings.Dashboard is { Port: int dashboard } && (dashboard == settings.SiloPort || dashboard == settings.GatewayPort || dashboard == settings.Health?.Port))
            throw new SiloConfigurationException($"dashboard port {dashboard} is also the silo, gateway or health port; give it a port of its own");
        if (!BackendSelection.Names.Contains(settings.Backend))
            throw new SiloConfigurationException($"unknown backend '{settings.Backend}'; use one of: {string.Join(", ", BackendSelection.Names)}");
        if (settings.Redis is not null)
        {
            try
            {
                if (ConfigurationOptions.Parse(settings.Redis).EndPoints.Count == 0)
                    throw new SiloConfigurationException($"--redis '{settings.Redis}' names no server; give HOST:PORT");
            }
            catch (ArgumentException e)
            {
                throw new SiloConfigurationException($"--redis '{settings.Redis}' is not a Redis configuration: {e.Message}");
            }
        }
    }

    private static bool IsAny(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    private static void ValidatePort(string what, int port)
    {
        if (port is < 1 or > 65535)
            throw new SiloConfigurationException($"{what} {port} is not a TCP port (1-65535)");
    }
}
