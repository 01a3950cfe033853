using System.Diagnostics;
using Actors.Tests.Shared;
using Xunit;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>
/// How silo processes form, keep and refuse a cluster: a port another silo holds, a primary that restarts
/// while the silos that joined it run, membership in Redis where any silo may die and come back, and silos
/// on different addresses (127.0.0.2, 127.0.0.3 standing in for machines).
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class ClusterMembershipTests
{
    [Fact]
    public async Task A_silo_or_gateway_port_that_another_silo_holds_is_refused_with_one_line()
    {
        int[] ports = LoopbackPorts.Free(4);
        using Process first = StartSilo("held-a", ports[0], ports[1]);
        try
        {
            await WaitForGatewayAsync($"127.0.0.1:{ports[1]}", "held-a");

            (int siloExit, string siloError) = await SiloProcess.RunToExitAsync(SiloStartInfo("held-b", ports[0], ports[2]));
            Assert.Equal((2, $"Actors.Silo: 127.0.0.1:{ports[0]} is already in use (another silo?); choose another --silo-port"), (siloExit, siloError.Trim()));
            (int gatewayExit, string gatewayError) = await SiloProcess.RunToExitAsync(SiloStartInfo("held-b", ports[3], ports[1]));
            Assert.Equal((2, $"Actors.Silo: 127.0.0.1:{ports[1]} is already in use (another silo?); choose another --gateway-port"), (gatewayExit, gatewayError.Trim()));

            Assert.False(first.HasExited);
            Assert.Equal(0, (await HvctlAsync("host", "list", "--gateway", $"127.0.0.1:{ports[1]}")).ExitCode);
        }
        finally
        {
            await StopAsync(first);
        }
    }

    [Fact]
    public async Task A_restarted_primary_refuses_to_start_while_silos_that_joined_it_run_and_they_keep_running()
    {
        int[] ports = LoopbackPorts.Free(4);
        Process primary = StartSilo("restart-p", ports[0], ports[1]);
        using Process joined = StartSilo("restart-j", ports[2], ports[3], joinSiloPort: ports[0]);
        try
        {
            await WaitForGatewayAsync($"127.0.0.1:{ports[1]}", "restart-j");
            primary.Kill(entireProcessTree: true);
            await primary.WaitForExitAsync();
            primary.Dispose();

            (int againExit, string againError) = await SiloProcess.RunToExitAsync(SiloStartInfo("restart-p", ports[0], ports[1]));
            Assert.Equal(2, againExit);
            Assert.Single(againError.Trim().Split('\n'));
            Assert.StartsWith($"Actors.Silo: silos that joined this one before it stopped still run (restart-j (pid {joined.Id})) and would end if it restarted;", againError);
            Assert.False(joined.HasExited, "the silo that joined ended");

            // Once they are gone, the primary starts again.
            await StopAsync(joined);
            primary = StartSilo("restart-p", ports[0], ports[1]);
            await WaitForGatewayAsync($"127.0.0.1:{ports[1]}", "restart-p");
        }
        finally
        {
            await StopAsync(primary);
            await StopAsync(joined);
        }
    }

    [Fact]
    public async Task With_membership_in_Redis_the_first_silo_can_die_and_rejoin_while_the_others_keep_the_cluster()
    {
        using RedisServer redis = await RedisServer.StartAsync();
        int[] ports = LoopbackPorts.Free(6);
        Process first = StartSilo("redis-a", ports[0], ports[1], redis: redis.Configuration);
        using Process second = StartSilo("redis-b", ports[2], ports[3], redis: redis.Configuration);
        using Process third = StartSilo("redis-c", ports[4], ports[5], redis: redis.Configuration);
        string gatewayB = $"127.0.0.1:{ports[3]}";
        try
        {
            await WaitForGatewayAsync(gatewayB, "redis-a");
            await WaitForGatewayAsync(gatewayB, "redis-c");
            Assert.Equal(0, (await HvctlAsync("vm", "create", "kept", "--image", Guest("hello.elf"), "--memory", "16M", "--gateway", gatewayB)).ExitCode);

            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
            first.Dispose();

            // The others go on: once they have declared the first silo dead (a few missed probes), they start a
            // guest and know the VM, whose record was in Redis.
            ProcessResult run = await UntilAsync(() => HvctlAsync("run", Guest("hello.elf"), "--gateway", gatewayB), r => r.Out.Contains("Hello from an Actors guest!", StringComparison.Ordinal));
            Assert.Contains("kept", (await HvctlAsync("vm", "list", "--gateway", gatewayB)).Out);

            // The first silo comes back under its old name and ports, and is a member again.
            first = StartSilo("redis-a", ports[0], ports[1], redis: redis.Configuration);
            await WaitForGatewayAsync($"127.0.0.1:{ports[1]}", "redis-c");
            await WaitForGatewayAsync(gatewayB, "redis-a");
            ProcessResult hosts = await HvctlAsync("host", "list", "--gateway", $"127.0.0.1:{ports[1]}");
            foreach (string host in new[] { "redis-a", "redis-b", "redis-c" })
                Assert.Matches($@"\n{host} +(emulator|kvm) ", hosts.Out);
            Assert.False(second.HasExited || third.HasExited);
        }
        finally
        {
            await StopAsync(first);
            await StopAsync(second);
            await StopAsync(third);
        }
    }

    [Fact]
    public async Task Silos_on_different_addresses_with_the_same_ports_form_one_cluster()
    {
        int[] ports = LoopbackPorts.Free(2);
        using Process a = StartSilo("addr-a", ports[0], ports[1], address: "127.0.0.2");
        using Process b = StartSilo("addr-b", ports[0], ports[1], joinSiloPort: ports[0], address: "127.0.0.3", joinAddress: "127.0.0.2");
        try
        {
            string gatewayB = $"127.0.0.3:{ports[1]}";
            await WaitForGatewayAsync(gatewayB, "addr-a");
            await WaitForGatewayAsync($"127.0.0.2:{ports[1]}", "addr-b");

            // Through one host's gateway, a guest runs on the other.
            Assert.Equal(0, (await HvctlAsync("vm", "create", "far", "--image", Guest("hello.elf"), "--memory", "16M", "--host", "addr-a", "--gateway", gatewayB)).ExitCode);
            ProcessResult started = await HvctlAsync("vm", "start", "far", "--gateway", gatewayB);
            Assert.Equal((0, "far: Running on addr-a"), (started.ExitCode, started.Out.Trim()));
        }
        finally
        {
            await StopAsync(a);
            await StopAsync(b);
        }
    }

    /// <summary>Repeats a command until its result is <paramref name="done"/>, for at most two minutes.</summary>
    private static async Task<ProcessResult> UntilAsync(Func<Task<ProcessResult>> command, Func<ProcessResult, bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            ProcessResult result = await command();
            if (done(result))
                return result;
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"still, after two minutes: exit {result.ExitCode}: {result.Out} / {result.Error}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Kills a silo that may still run, or may have ended, or never have started.</summary>
    internal static async Task StopAsync(Process silo)
    {
        try
        {
            if (!silo.HasExited)
                silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // disposed, or never started: nothing runs
        }
    }
}
