using Actors.Grains.Partitions;
using Orleans.Concurrency;

namespace Actors.Grains.Network;

/// <summary>
/// Every virtual switch by name. A switch is only a name here: its ports live in its own grain, as soft
/// state that the VMs' workers put back by connecting again, so the catalog asks that grain before it
/// lets a switch go.
/// </summary>
public sealed class SwitchCatalogGrain(
    [PersistentState("switches", PartitionGrain.StorageName)] IPersistentState<SwitchCatalogRecord> record) : Grain, ISwitchCatalogGrain
{
    /// <summary>How many plugged-in ports a refusal names before it says "and N more".</summary>
    private const int PortsNamed = 3;

    public async Task<SwitchInfo> CreateAsync(string name)
    {
        if (!VmConfiguration.IsSwitchName(name))
            throw new HypervisorException($"'{name}' is not a switch name (1-64 letters, digits, '-', '_' and '.')");
        if (record.State.Switches.ContainsKey(name))
            throw new HypervisorException($"switch '{name}' already exists", HypervisorRefusal.AlreadyExists);
        var created = new SwitchInfo(name, DateTimeOffset.UtcNow);
        record.State.Switches[name] = created;
        await record.WriteStateAsync();
        return created;
    }

    [ReadOnly]
    public Task<SwitchInfo?> GetAsync(string name) => Task.FromResult(record.State.Switches.GetValueOrDefault(name));

    [ReadOnly]
    public Task<IReadOnlyList<SwitchInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<SwitchInfo>>([.. record.State.Switches.Values.OrderBy(s => s.Name, StringComparer.Ordinal)]);

    public async Task DeleteAsync(string name)
    {
        if (!record.State.Switches.ContainsKey(name))
            throw new HypervisorException($"no switch '{name}'");
        // A port that connects after this answer asks this catalog whether the switch exists, and that
        // question waits until the deletion is written: it is refused.
        IReadOnlyList<SwitchPort> ports = await GrainFactory.GetGrain<IVirtualSwitchGrain>(name).GetPortsAsync();
        if (ports.Count > 0)
            throw new HypervisorException($"switch '{name}' has {PortsPluggedIn(ports)} plugged in: stop those VMs first");
        record.State.Switches.Remove(name);
        await record.WriteStateAsync();
    }

    private static string PortsPluggedIn(IReadOnlyList<SwitchPort> ports)
    {
        string named = string.Join(", ", ports.Select(p => p.ToString()).Order(StringComparer.Ordinal).Take(PortsNamed));
        string more = ports.Count > PortsNamed ? $" and {ports.Count - PortsNamed} more" : string.Empty;
        return $"{ports.Count} {(ports.Count == 1 ? "port" : "ports")} ({named}{more})";
    }
}
