namespace Actors.Grains;

/// <summary>
/// A VM's network adapter as its virtual switch knows it: the VM, the adapter's index on it, and the
/// adapter's MAC address (six bytes as "00:15:5d:..", lower case). The port keeps its name when the
/// VM moves; only where its frames are delivered (its <see cref="INetworkPortSink"/>) changes.
/// </summary>
/// <param name="Vm">The VM the adapter belongs to.</param>
/// <param name="Nic">The adapter's index on the VM (0 for its first).</param>
/// <param name="Mac">The adapter's MAC address, lower case.</param>
[GenerateSerializer]
[Alias("Actors.SwitchPort")]
public sealed record SwitchPort(
    [property: Id(0)] string Vm,
    [property: Id(1)] int Nic,
    [property: Id(2)] string Mac)
{
    /// <summary>The port's name, <c>"{vm}/nic{index}"</c>, as <c>hvctl switch show</c> prints it.</summary>
    public override string ToString() => $"{Vm}/nic{Nic}";
}
