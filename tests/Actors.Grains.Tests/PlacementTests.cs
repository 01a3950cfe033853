using Xunit;

namespace Actors.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class PlacementTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Every_host_registers_itself_under_its_silo_name()
    {
        IReadOnlyList<string> hosts = await fixture.Client.GetGrain<IHostCatalogGrain>(0).ListAsync();

        Assert.Equal(["host-0", "host-1", "host-2"], hosts.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("host-0")]
    [InlineData("host-1")]
    [InlineData("host-2")]
    public async Task Backend_grain_lands_on_its_host_and_returns_there_after_deactivation(string host)
    {
        IHwBackendGrain backend = fixture.Client.GetGrain<IHwBackendGrain>(host);
        SiloAddress expected = fixture.SiloOfHost(host);

        HostInfo info = await backend.GetInfoAsync();
        Assert.Equal(host, info.Host);
        Assert.Equal("emulator", info.Backend);
        Assert.Equal(expected, fixture.SiloOf(backend));

        await fixture.Cluster.DeactivateAsync(backend);
        Assert.Null(fixture.SiloOf(backend));

        // Reactivate through the root partition, i.e. from inside the cluster rather than from the client's gateway.
        HostInfo again = await fixture.Client.GetGrain<IRootPartitionGrain>(host).GetInfoAsync();
        Assert.Equal(host, again.Host);
        Assert.Equal(expected, fixture.SiloOf(backend));
        Assert.Equal(expected, fixture.SiloOf(fixture.Client.GetGrain<IRootPartitionGrain>(host)));
    }

    [Fact]
    public async Task Backend_grain_of_an_unknown_host_is_refused()
    {
        var e = await Assert.ThrowsAsync<HypervisorException>(() => fixture.Client.GetGrain<IHwBackendGrain>("nowhere").GetInfoAsync());

        Assert.Contains("unknown host 'nowhere'", e.Message);
    }

    [Fact]
    public async Task Host_info_reports_the_memory_budget_minus_running_vms()
    {
        HostInfo info = await fixture.Client.GetGrain<IRootPartitionGrain>("host-2").GetInfoAsync();

        Assert.Equal(8UL << 30, info.MemoryTotalBytes);
        Assert.Equal(Environment.ProcessorCount, info.Cores);
        Assert.True(info.MemoryFreeBytes <= info.MemoryTotalBytes);
    }
}
