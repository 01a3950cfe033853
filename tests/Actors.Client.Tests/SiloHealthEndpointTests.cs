using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Silo;

namespace Actors.Client.Tests;

/// <summary>The silo's <c>--health-port</c>: how it is read, how bad values are refused, and a real silo's probes.</summary>
[Collection(SiloProcessCollection.Name)]
public sealed class SiloHealthEndpointTests
{
    private static readonly Dictionary<string, string?> Required = new()
    {
        ["ACTORS_HOST"] = "probe-host",
        ["ACTORS_SILO_PORT"] = "11111",
        ["ACTORS_GATEWAY_PORT"] = "30000",
    };

    [Fact]
    public void No_health_port_means_no_endpoint()
    {
        Assert.Null(Parse([], []).Health);
    }

    [Fact]
    public void The_health_port_listens_on_loopback_unless_an_address_is_given()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), Parse(["--health-port", "8080"], []).Health);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 8080), Parse(["--health-port", "8080", "--health-address", "0.0.0.0"], []).Health);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 9090), Parse(["--health-address", "127.0.0.2", "--health-port", "9090"], []).Health);
    }

    [Fact]
    public void The_environment_gives_the_endpoint_and_the_command_line_overrides_it()
    {
        var kubernetes = new Dictionary<string, string?> { ["ACTORS_HEALTH_PORT"] = "8080", ["ACTORS_HEALTH_ADDRESS"] = "0.0.0.0" };

        Assert.Equal(new IPEndPoint(IPAddress.Any, 8080), Parse([], kubernetes).Health);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 8081), Parse(["--health-port", "8081"], kubernetes).Health);
    }

    [Theory]
    [InlineData("--health-port 0", "--health-port '0' is not a TCP port (1-65535)")]
    [InlineData("--health-port 65536", "--health-port '65536' is not a TCP port (1-65535)")]
    [InlineData("--health-port http", "--health-port 'http' is not a TCP port (1-65535)")]
    [InlineData("--health-port -1", "--health-port '-1' is not a TCP port (1-65535)")]
    [InlineData("--health-port 8080 --health-address localhost", "--health-address 'localhost' is not an IP address")]
    [InlineData("--health-address 0.0.0.0", "--health-address '0.0.0.0' needs --health-port")]
    public void Bad_health_options_are_refused_with_one_line(string args, string message)
    {
        var e = Assert.Throws<SiloConfigurationException>(() => Parse(args.Split(' '), []));

        Assert.StartsWith(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_health_port_that_is_also_the_silo_or_gateway_port_is_refused()
    {
        var e = Assert.Throws<SiloConfigurationException>(() =>
            ActorsSilo.Build(new SiloSettings("x", 11111, 30000, null, Health: new IPEndPoint(IPAddress.Loopback, 30000))));

        Assert.Equal("health port 30000 is also the silo or gateway port; give it a port of its own", e.Message);
    }

    [Fact]
    public async Task A_silo_process_refuses_a_bad_health_port_with_one_line_and_exit_code_2()
    {
        (int exitCode, string error) = await SiloProcess.RunToExitAsync(
            ["--host", "probe-host", "--silo-port", "11111", "--gateway-port", "30000", "--health-port", "70000"]);

        Assert.Equal(2, exitCode);
        Assert.Equal("Actors.Silo: --health-port '70000' is not a TCP port (1-65535)", error.Trim());
    }

    [Fact]
    public async Task A_silo_process_refuses_a_health_port_in_use_with_one_line_and_exit_code_2()
    {
        int[] ports = LoopbackPorts.Free(2);
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int taken = ((IPEndPoint)holder.LocalEndpoint).Port;

        (int exitCode, string error) = await SiloProcess.RunToExitAsync(["--host", "probe-host", "--silo-port", Text(ports[0]), "--gateway-port", Text(ports[1]), "--health-port", Text(taken)]);

        Assert.Equal(2, exitCode);
        Assert.Equal($"Actors.Silo: health port {taken} on 127.0.0.1 is already in use; choose another with --health-port", error.Trim());
    }

    [Fact]
    public async Task A_started_silo_answers_healthz_and_readyz_with_200()
    {
        int[] ports = LoopbackPorts.Free(3);
        await using var silo = SiloProcess.Start(
            ["--host", "probe-host", "--silo-port", Text(ports[0]), "--gateway-port", Text(ports[1])],
            new Dictionary<string, string> { ["ACTORS_HEALTH_PORT"] = Text(ports[2]) });

        // Ready once Active in membership; alive from before that on.
        Assert.Equal("ok\n", await silo.WaitForOkAsync(new Uri($"http://127.0.0.1:{ports[2]}/readyz")));
        Assert.Equal("ok\n", await silo.WaitForOkAsync(new Uri($"http://127.0.0.1:{ports[2]}/healthz")));
    }

    private static SiloSettings Parse(string[] args, Dictionary<string, string?> environment) =>
        SiloCommandLine.Parse(args, name => environment.TryGetValue(name, out string? value) ? value : Required.GetValueOrDefault(name));

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}
