using System.Net;
using System.Net.Sockets;
using Actors.HwBackend.Emulation.Tiers;
using Actors.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>
/// Two silos built by <see cref="ActorsSilo.Build"/> on real loopback TCP, the way hvctl embeds them, and a
/// client that boots a guest on the second one.
/// </summary>
public sealed class EmbeddedSiloTests
{
    [Fact]
    public async Task Two_built_silos_form_a_cluster_and_run_a_guest()
    {
        int[] ports = FreePorts(4);
        using IHost primary = ActorsSilo.Build(new SiloSettings("edge-0", ports[0], ports[1], Join: null, Backend: "emulator"));
        await primary.StartAsync();
        using IHost secondary = ActorsSilo.Build(new SiloSettings("edge-1", ports[2], ports[3], new IPEndPoint(IPAddress.Loopback, ports[0])));
        await secondary.StartAsync();
        HostApplicationBuilder clientBuilder = Host.CreateApplicationBuilder();
        clientBuilder.UseOrleansClient(client =>
            client.UseLocalhostClustering([ports[1], ports[3]], ActorsSilo.ServiceId, ActorsSilo.ClusterId).AddMemoryStreams(ConsoleStreams.Provider));
        using IHost clientHost = clientBuilder.Build();
        await clientHost.StartAsync();
        try
        {
            IClusterClient client = clientHost.Services.GetRequiredService<IClusterClient>();
            await Poll.UntilAsync(() => client.GetGrain<IHostCatalogGrain>(0).ListAsync(), h => h.Count == 2, "both hosts to register");

            IPartitionGrain vm = client.GetGrain<IPartitionGrain>("embedded");
            string imageId = await ImageUploader.UploadAsync(client, Guests.Image("hello"));
            await vm.CreateAsync(new VmConfiguration(imageId, 16UL << 20, 1, "edge-1", "hello"));
            Assert.Equal("edge-1", (await vm.StartAsync()).Host);
            VmStatus ended = await Poll.UntilAsync(vm.GetStatusAsync, s => s.State == VmState.Off, "hello to exit");
            Assert.Equal(Guests.ExpectedStatus("hello"), ended.ExitStatus);
        }
        finally
        {
            await clientHost.StopAsync();
            await secondary.StopAsync();
            await primary.StopAsync();
        }
    }

    // --backend kvm where /dev/kvm does not open: BackendChoiceTests, through a silo process.
    [Fact]
    public void An_unknown_backend_is_refused_before_anything_starts()
    {
        var e = Assert.Throws<SiloConfigurationException>(() => ActorsSilo.Build(new SiloSettings("x", 11111, 30000, null, "qemu")));

        Assert.Contains("unknown backend 'qemu'", e.Message);
    }

    [Fact]
    public void Command_line_overrides_environment_and_rejects_bad_ports()
    {
        var environment = new Dictionary<string, string?> { ["ACTORS_HOST"] = "env-host", ["ACTORS_SILO_PORT"] = "11111", ["ACTORS_GATEWAY_PORT"] = "30000" };

        SiloSettings settings = SiloCommandLine.Parse(["--host", "cli-host", "--join", "127.0.0.1:11112"], n => environment.GetValueOrDefault(n));
        Assert.Equal(new SiloSettings("cli-host", 11111, 30000, new IPEndPoint(IPAddress.Loopback, 11112), "auto"), settings);

        var e = Assert.Throws<SiloConfigurationException>(() => SiloCommandLine.Parse(["--silo-port", "70000"], n => environment.GetValueOrDefault(n)));
        Assert.Contains("--silo-port '70000' is not a TCP port", e.Message);

        // A host name is part of grain keys ("host/vm"), so a '/' in it is refused.
        var slash = Assert.Throws<SiloConfigurationException>(() => SiloCommandLine.Parse(["--host", "rack/1"], n => environment.GetValueOrDefault(n)));
        Assert.Contains("--host 'rack/1' must be", slash.Message);
    }

    [Fact]
    public void Listen_and_advertise_addresses_are_read_and_checked()
    {
        var environment = new Dictionary<string, string?> { ["ACTORS_HOST"] = "h", ["ACTORS_SILO_PORT"] = "11111", ["ACTORS_GATEWAY_PORT"] = "30000", ["ACTORS_LISTEN"] = "127.0.0.2" };
        SiloSettings settings = SiloCommandLine.Parse([], n => environment.GetValueOrDefault(n));
        Assert.Equal((IPAddress.Parse("127.0.0.2"), new IPEndPoint(IPAddress.Parse("127.0.0.2"), 11111)), (settings.AdvertisedAddress, settings.PrimaryEndpoint));
        // The health probes listen where the silo does, and only when given a port.
        Assert.Null(settings.Health);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 8080), SiloCommandLine.Parse(["--health-port", "8080"], n => environment.GetValueOrDefault(n)).Health);

        SiloSettings everywhere = SiloCommandLine.Parse(["--listen", "0.0.0.0", "--advertise", "127.0.0.3", "--join", "127.0.0.2:11111"], n => environment.GetValueOrDefault(n));
        Assert.Equal((IPAddress.Any, IPAddress.Parse("127.0.0.3")), (everywhere.ListenAddress, everywhere.AdvertisedAddress));

        var noAdvertise = Assert.Throws<SiloConfigurationException>(() => ActorsSilo.Build(settings with { Listen = IPAddress.Any }));
        Assert.Equal("--listen 0.0.0.0 binds every interface; give --advertise, the address other silos and clients reach this one at", noAdvertise.Message);
        var both = Assert.Throws<SiloConfigurationException>(() => ActorsSilo.Build(everywhere with { Redis = "127.0.0.1:6379" }));
        Assert.StartsWith("--join is for membership held by a primary silo", both.Message);
        var foreign = Assert.Throws<SiloConfigurationException>(() => ActorsSilo.Build(settings with { Listen = IPAddress.Parse("192.0.2.1"), SiloPort = FreePorts(1)[0] }));
        Assert.Equal("192.0.2.1 is not an address of this machine; give --listen one of its own", foreign.Message);
        var unresolved = Assert.Throws<SiloConfigurationException>(() => SiloCommandLine.Parse(["--advertise", "no-such-host.invalid"], n => environment.GetValueOrDefault(n)));
        Assert.StartsWith("--advertise 'no-such-host.invalid' cannot be resolved", unresolved.Message);
    }

    [Fact]
    public void The_cpu_tier_is_read_from_the_command_line_or_the_environment_and_checked()
    {
        var environment = new Dictionary<string, string?> { ["ACTORS_HOST"] = "h", ["ACTORS_SILO_PORT"] = "11111", ["ACTORS_GATEWAY_PORT"] = "30000" };
        Assert.Equal(CpuTier.Translator, SiloCommandLine.Parse([], n => environment.GetValueOrDefault(n)).CpuTier);
        Assert.Equal(CpuTier.Interpreter, SiloCommandLine.Parse(["--cpu-tier", "interpreter"], n => environment.GetValueOrDefault(n)).CpuTier);
        environment["ACTORS_CPU_TIER"] = "interpreter";
        Assert.Equal(CpuTier.Interpreter, SiloCommandLine.Parse([], n => environment.GetValueOrDefault(n)).CpuTier);
        Assert.Equal(CpuTier.Translator, SiloCommandLine.Parse(["--cpu-tier", "translator"], n => environment.GetValueOrDefault(n)).CpuTier);

        var e = Assert.Throws<SiloConfigurationException>(() => SiloCommandLine.Parse(["--cpu-tier", "jit"], n => environment.GetValueOrDefault(n)));
        Assert.Equal("--cpu-tier must be interpreter or translator, not 'jit'", e.Message);
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        int[] ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
