using Orleans.Concurrency;

namespace Actors.Grains.Catalogs;

/// <summary>
/// The hosts that have registered. Listing filters by live membership, so a host whose silo has gone is not
/// offered for placement while it stays remembered for when it comes back.
/// </summary>
public sealed class HostCatalogGrain(
    [PersistentState("hosts", "vmstate")] IPersistentState<HostCatalogRecord> record,
    IClusterMembershipService membership) : Grain, IHostCatalogGrain
{
    public async Task RegisterAsync(string host)
    {
        if (string.IsNullOrWhiteSpace(host))
            throw new HypervisorException("a host name must not be empty");
        if (record.State.Hosts.Add(host))
            await record.WriteStateAsync();
    }

    [ReadOnly]
    public Task<IReadOnlyList<string>> ListAsync()
    {
        var active = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.Name)
            .ToHashSet(StringComparer.Ordinal);
        return Task.FromResult<IReadOnlyList<string>>(record.State.Hosts.Where(active.Contains).ToList());
    }
}
