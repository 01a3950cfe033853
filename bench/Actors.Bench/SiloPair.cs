using Actors.Client;
using Actors.Grains;
using Actors.Tests.Shared;

namespace Actors.Bench;

/// <summary>Two fresh silo processes on loopback, over mutual TLS when given certificates, and a client of theirs: the two ends of a benchmark's migrations.</summary>
internal sealed class SiloPair : IAsyncDisposable
{
    private SiloPair(SiloProcess source, SiloProcess target, HypervisorClient client, string label)
    {
        (Source, Target, Client, Label) = (source, target, client, label);
    }

    public SiloProcess Source { get; }

    public SiloProcess Target { get; }

    public HypervisorClient Client { get; }

    /// <summary>What the benchmark calls this pair's runs: "actors" or "actors over TLS".</summary>
    public string Label { get; }

    public static async Task<SiloPair> StartAsync(string prefix, BenchCertificates? tls)
    {
        var source = SiloProcess.Start($"{prefix}-a", tls: tls);
        var target = SiloProcess.Start($"{prefix}-b", join: source, tls: tls);
        HypervisorClient client = await HypervisorClient.ConnectAsync(source.Gateway, TimeSpan.FromSeconds(60), tls: tls?.Client);
        await Poll.UntilAsync(client.ListHostsAsync, hosts => hosts.Count == 2, "both silos to register");

        return new SiloPair(source, target, client, tls is null ? "actors" : "actors over TLS");
    }

    /// <summary>Moves <paramref name="vm"/> from the source's host to the target's and waits for the migration to end.</summary>
    public async Task<MigrationStatus> MigrateAsync(string vm, TimeSpan maxDowntime)
    {
        string id = await Client.MigrateVmAsync(vm, Target.Host, MigrationOptions.Default with { MaxDowntime = maxDowntime });
        return await Client.WaitForMigrationAsync(id, progress: null);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        Target.Dispose();
        Source.Dispose();
    }
}
