using System.Diagnostics;
using System.Text;
using Actors.Client;
using Actors.Grains;

namespace Actors.Bench;

/// <summary>Guests the benchmarks run through a cluster of <see cref="SiloProcess"/>es with the client SDK, each to its own power-off.</summary>
internal static class ClusterGuest
{
    /// <summary>Runs <paramref name="body"/>, whose cluster's own failures (a silo that did not come up, a call refused) end the benchmark with one line too.</summary>
    public static async Task WithOneLineFailuresAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception e) when (e is not BenchUsageException)
        {
            throw new BenchUsageException($"cluster: {e.GetType().Name}: {BenchReport.FirstLine(e.Message)}");
        }
    }

    /// <summary>Waits (up to 3 minutes) until every host in <paramref name="hosts"/> has joined the cluster.</summary>
    public static async Task WaitForHostsAsync(HypervisorClient client, params string[] hosts)
    {
        var deadline = Stopwatch.StartNew();
        while (!hosts.All((await client.ListHostsAsync()).Select(h => h.Host).Contains))
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(3))
                throw new BenchUsageException($"hosts {string.Join(", ", hosts)} did not all join the cluster");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Starts the defined VM <paramref name="vm"/> and waits until it is off, collecting its console:
    /// its text and the time from the start call to the power-off. A VM that fails, or is not off
    /// within <paramref name="timeout"/>, ends the benchmark with one line naming <paramref name="who"/>.
    /// </summary>
    public static async Task<(string Console, TimeSpan Wall)> RunToPowerOffAsync(HypervisorClient client, string vm, TimeSpan timeout, string who)
    {
        await using ConsoleSubscription console = await client.SubscribeConsoleAsync(vm);
        var text = new StringBuilder();
        _ = Task.Run(async () =>
        {
            await foreach (ConsoleOutput batch in console.ReadAllAsync())
            {
                lock (text)
                    text.Append(Encoding.Latin1.GetString(batch.Data));
            }
        });
        var clock = Stopwatch.StartNew();
        await client.StartVmAsync(vm);
        VmStatus status;
        try
        {
            status = await client.WaitForStateAsync(vm, s => s.State is VmState.Off or VmState.Failed, timeout);
        }
        catch (HypervisorClientException)
        {
            throw new BenchUsageException($"{who}: the guest did not power off within {timeout.TotalMinutes:F0} min");
        }

        TimeSpan wall = clock.Elapsed;
        if (status.State == VmState.Failed)
            throw new BenchUsageException($"{who}: the VM failed: {status.FailureReason}");
        if (!await console.WaitForOffsetAsync(status.ConsoleBytes, TimeSpan.FromSeconds(30)))
            throw new BenchUsageException($"{who}: the console's last {status.ConsoleBytes - console.EndOffset} bytes did not arrive");
        lock (text)
            return (text.ToString(), wall);
    }

    /// <summary>Stops <paramref name="vm"/> if it still runs.</summary>
    public static async Task StopAsync(HypervisorClient client, string vm)
    {
        if ((await client.GetVmAsync(vm)).State is VmState.Running or VmState.Paused)
            await client.StopVmAsync(vm);
    }

    /// <summary>Stops <paramref name="vm"/> if it still runs, and deletes it.</summary>
    public static async Task DeleteAsync(HypervisorClient client, string vm)
    {
        await StopAsync(client, vm);
        await client.DeleteVmAsync(vm);
    }
}
